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


def upload_answer(request, *, predictions: list, failures: list, waiting: int = 0, **fields) -> Response:
    """201 with the predictions made (files that were not are listed in ``errors``); 202 when a sample's images
    were left waiting for the workers; 200 when nothing was new but a sample held the files already (``fields``
    names them); 400 when none could be taken. ``fields``: more of the answer, e.g. a sample upload's state."""
    errors = UploadFailureSerializer(failures, many=True).data
    if waiting:
        body, code = {"predictions": [], "waiting": waiting}, status.HTTP_202_ACCEPTED
    elif predictions:
        created = PredictionSerializer(predictions, many=True, context={"request": request}).data
        body, code = {"predictions": created}, status.HTTP_201_CREATED
    elif fields.get("already_in_sample"):
        body, code = {"predictions": []}, status.HTTP_200_OK
    else:
        body, code = {"detail": "None of the files could be classified."}, status.HTTP_400_BAD_REQUEST
    return Response({**body, "errors": errors, **fields}, status=code)


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
        fields = UploadSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        predictions, failures = prediction_create_many(owner=request.user, uploads=fields.validated_data["images"])
        return upload_answer(request, predictions=predictions, failures=failures)


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
