"""Thin API views of predictions and the model: querysets come from selectors (already limited to the user),
writes go through services. Samples and review are ``labs.api``'s, tokens ``accounts.api``'s."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier import exports, model_gateway, selectors
from classifier.api.serializers import (
    ErrorSerializer,
    ModelVersionSerializer,
    PredictionSerializer,
    UploadFailureSerializer,
    UploadRefusedSerializer,
    UploadResultSerializer,
    UploadSerializer,
)
from classifier.filters import PredictionApiFilter
from classifier.models import Prediction
from classifier.services.predictions import prediction_create_many, prediction_delete
from classifier.services.waiting import sample_images_add

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not found, or neither yours nor your lab's.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Only reviewers may do this.")
VERIFIED = OpenApiResponse(
    ErrorSerializer, description="Refused; e.g. the sample is verified, so nothing in it changes."
)
INVALID = OpenApiResponse(ErrorSerializer, description="The request was refused; the message says why.")
UPLOAD_RESPONSES = {
    201: OpenApiResponse(
        UploadResultSerializer,
        description="At least one image was classified; files that were not are listed in errors.",
    ),
    400: OpenApiResponse(UploadRefusedSerializer, description="No image could be classified; errors says why."),
    503: OpenApiResponse(ErrorSerializer, description="No trained model is available."),
}
WAITING = OpenApiResponse(
    UploadResultSerializer,
    description="Stored, waiting for the workers (waiting: how many); "
    "the sample's waiting_count falls to 0 once classified.",
)


def upload_response(request, *, sample=None) -> Response:
    """Classify the uploaded images (and ZIPs); per-file failures are reported without losing the good files.

    A sample's images may be left waiting for the workers instead (202, ``waiting`` says how many).
    """
    upload = UploadSerializer(data=request.data)
    upload.is_valid(raise_exception=True)
    images = upload.validated_data["images"]
    if sample is None:
        predictions, failures = prediction_create_many(owner=request.user, uploads=images)
        waiting = 0
    else:
        predictions, waiting, failures = sample_images_add(owner=request.user, uploads=images, sample=sample)
    errors = UploadFailureSerializer(failures, many=True).data
    if waiting:
        return Response({"predictions": [], "waiting": waiting, "errors": errors}, status=status.HTTP_202_ACCEPTED)
    if not predictions:
        return Response(
            {"detail": "None of the files could be classified.", "errors": errors}, status=status.HTTP_400_BAD_REQUEST
        )
    created = PredictionSerializer(predictions, many=True, context={"request": request}).data
    return Response({"predictions": created, "errors": errors}, status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(summary="List your predictions, newest first"))
class PredictionListApi(generics.ListAPIView):
    queryset = Prediction.objects.none()  # names the model for the schema's filters; get_queryset decides
    serializer_class = PredictionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PredictionApiFilter
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return selectors.prediction_list_visible(user=self.request.user)

    @extend_schema(
        summary="Classify one or many images (or ZIP archives)", request=UploadSerializer, responses=UPLOAD_RESPONSES
    )
    def post(self, request):
        return upload_response(request)


class PredictionFileApi(APIView):
    """The uploaded image or its JPEG preview, for token clients as for the web pages."""

    variant = "original"

    @extend_schema(
        summary="Download a prediction's image", responses={(200, "image/*"): OpenApiTypes.BINARY, 404: NOT_FOUND}
    )
    def get(self, request, pk: int):
        prediction = selectors.prediction_get_visible(user=request.user, pk=pk)
        return exports.prediction_file_response(prediction, self.variant)


@extend_schema_view(
    get=extend_schema(summary="One prediction", responses={200: PredictionSerializer, 404: NOT_FOUND}),
    delete=extend_schema(
        summary="Delete a prediction and its images (its owner or staff; never a cell of a verified sample)",
        responses={204: None, 400: VERIFIED, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class PredictionDetailApi(generics.RetrieveDestroyAPIView):
    serializer_class = PredictionSerializer

    def get_queryset(self):
        return selectors.prediction_list_visible(user=self.request.user)

    def perform_destroy(self, instance):
        prediction_delete(prediction=instance, actor=self.request.user)


class ModelVersionApi(APIView):
    @extend_schema(
        summary="The active model: architecture, classes and metrics",
        responses={200: ModelVersionSerializer, 404: NOT_FOUND},
    )
    def get(self, request):
        version = model_gateway.active_version()
        if version is None:
            raise NotFound(
                "No trained model is registered yet. Run `python manage.py train_model`, then "
                "`python manage.py evaluate_model`."
            )
        return Response(ModelVersionSerializer(version, context={"runtime": model_gateway.runtime_name()}).data)
