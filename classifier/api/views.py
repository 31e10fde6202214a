"""Thin API views: querysets come from selectors (already limited to the user), writes go through services."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from classifier import exports, selectors, services
from classifier.api.serializers import (
    DifferentialSerializer,
    ErrorSerializer,
    ModelVersionSerializer,
    PredictionSerializer,
    ReasonSerializer,
    ReviewSerializer,
    SampleCreateSerializer,
    SampleEventSerializer,
    SampleSerializer,
    UploadFailureSerializer,
    UploadRefusedSerializer,
    UploadResultSerializer,
    UploadSerializer,
)
from classifier.filters import PredictionApiFilter
from classifier.models import Prediction
from classifier.views.accounts import locked_out

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not found, or neither yours nor your lab's.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Only reviewers may do this.")
FROZEN = OpenApiResponse(ErrorSerializer, description="Refused; e.g. the sample is verified, so nothing in it "
                                                      "changes.")
INVALID = OpenApiResponse(ErrorSerializer, description="The request was refused; the message says why.")
UPLOAD_RESPONSES = {
    201: OpenApiResponse(UploadResultSerializer,
                         description="At least one image was classified; files that were not are listed in errors."),
    400: OpenApiResponse(UploadRefusedSerializer, description="No image could be classified; errors says why."),
    503: OpenApiResponse(ErrorSerializer, description="No trained model is available."),
}
QUEUED = OpenApiResponse(UploadResultSerializer, description="Stored and queued for the workers (queued: how many); "
                                                             "the sample's queued_count falls to 0 once classified.")


class TokenApi(ObtainAuthToken):
    """POST credentials for a token (throttled; django-axes locks a username out after repeated failures);
    DELETE ends the token the request authenticates with."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(summary="Get your API token", responses={200: OpenApiTypes.OBJECT, 400: INVALID,
                                                            429: OpenApiResponse(ErrorSerializer)})
    def post(self, request, *args, **kwargs):
        credentials = self.get_serializer(data=request.data)
        if not credentials.is_valid() and getattr(request, "axes_locked_out", False):
            return locked_out(request)
        credentials.is_valid(raise_exception=True)
        return Response({"token": services.token_issue(user=credentials.validated_data["user"]).key})

    @extend_schema(summary="End your API token", request=None, responses={204: None, 401: ErrorSerializer})
    def delete(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _upload_response(request, *, sample=None) -> Response:
    """Classify the uploaded images (and ZIPs); per-file failures are reported without losing the good files.

    A sample's images may be queued for the workers instead (202, ``queued`` says how many).
    """
    upload = UploadSerializer(data=request.data)
    upload.is_valid(raise_exception=True)
    images = upload.validated_data["images"]
    if sample is None:
        predictions, failures = services.prediction_create_many(owner=request.user, uploads=images)
        queued = 0
    else:
        predictions, queued, failures = services.sample_images_add(owner=request.user, uploads=images, sample=sample)
    errors = UploadFailureSerializer(failures, many=True).data
    if queued:
        return Response({"predictions": [], "queued": queued, "errors": errors}, status=status.HTTP_202_ACCEPTED)
    if not predictions:
        return Response({"detail": "None of the files could be classified.", "errors": errors},
                        status=status.HTTP_400_BAD_REQUEST)
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

    @extend_schema(summary="Classify one or many images (or ZIP archives)", request=UploadSerializer,
                   responses=UPLOAD_RESPONSES)
    def post(self, request):
        return _upload_response(request)


class PredictionFileApi(APIView):
    """The uploaded image or its JPEG preview, for token clients as for the web pages."""

    variant = "original"

    @extend_schema(summary="Download a prediction's image", responses={(200, "image/*"): OpenApiTypes.BINARY,
                                                                       404: NOT_FOUND})
    def get(self, request, pk: int):
        prediction = selectors.prediction_get_visible(user=request.user, pk=pk)
        return exports.prediction_file_response(prediction, self.variant)


@extend_schema_view(
    get=extend_schema(summary="One prediction", responses={200: PredictionSerializer, 404: NOT_FOUND}),
    delete=extend_schema(summary="Delete a prediction and its images (its owner or staff; never a cell of a verified "
                                 "sample)", responses={204: None, 400: FROZEN, 403: FORBIDDEN, 404: NOT_FOUND}),
)
class PredictionDetailApi(generics.RetrieveDestroyAPIView):
    serializer_class = PredictionSerializer

    def get_queryset(self):
        return selectors.prediction_list_visible(user=self.request.user)

    def perform_destroy(self, instance):
        services.prediction_delete(prediction=instance, actor=self.request.user)


class PredictionReviewApi(generics.GenericAPIView):
    serializer_class = ReviewSerializer

    def get_queryset(self):
        return selectors.prediction_list_visible(user=self.request.user)

    @extend_schema(summary="Confirm or correct a prediction (reviewers only); the model's label is kept",
                   responses={200: PredictionSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND})
    def post(self, request, pk: int):
        prediction = self.get_object()
        review = self.get_serializer(data=request.data)
        review.is_valid(raise_exception=True)
        services.prediction_review(prediction=prediction, reviewer=request.user, label=review.validated_data["label"])
        return Response(PredictionSerializer(prediction, context={"request": request}).data)


class PredictionExcludeApi(generics.GenericAPIView):
    serializer_class = ReasonSerializer

    def get_queryset(self):
        return selectors.prediction_list_visible(user=self.request.user)

    @extend_schema(summary="Exclude a sample's cell from its differential, with the reason (reviewers only)",
                   responses={200: PredictionSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND})
    def post(self, request, pk: int):
        prediction = self.get_object()
        fields = self.get_serializer(data=request.data)
        fields.is_valid(raise_exception=True)
        services.prediction_exclude(prediction=prediction, reviewer=request.user,
                                    reason=fields.validated_data["reason"])
        return Response(PredictionSerializer(prediction, context={"request": request}).data)


class SampleApi(generics.GenericAPIView):
    """Samples with their image and flagged counts; every sample URL looks the id up in the user's samples."""

    serializer_class = SampleSerializer

    def get_queryset(self):
        return selectors.sample_list_with_counts(user=self.request.user)


@extend_schema_view(get=extend_schema(summary="List your samples, newest first"))
class SampleListApi(SampleApi, generics.ListAPIView):
    @extend_schema(summary="Create a sample (a smear)", request=SampleCreateSerializer,
                   responses={201: SampleSerializer, 400: INVALID})
    def post(self, request):
        fields = SampleCreateSerializer(data=request.data, labs=selectors.lab_list(user=request.user))
        fields.is_valid(raise_exception=True)
        sample = services.sample_create(owner=request.user, **fields.validated_data)
        created = self.get_queryset().get(pk=sample.pk)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="One sample", responses={200: SampleSerializer, 404: NOT_FOUND}),
    delete=extend_schema(summary="Delete a sample with all its images (its owner or staff; never a verified one)",
                         responses={204: None, 400: FROZEN, 403: FORBIDDEN, 404: NOT_FOUND}),
)
class SampleDetailApi(SampleApi, generics.RetrieveDestroyAPIView):
    def perform_destroy(self, instance):
        services.sample_delete(sample=instance, actor=self.request.user)


class SampleImagesApi(SampleApi):
    parser_classes = [MultiPartParser]

    @extend_schema(summary="Classify images (or ZIP archives) into the sample", request=UploadSerializer,
                   responses={**UPLOAD_RESPONSES, 202: QUEUED, 403: OpenApiResponse(ErrorSerializer), 404: NOT_FOUND})
    def post(self, request, pk: int):
        return _upload_response(request, sample=self.get_object())


class SampleDifferentialApi(SampleApi):
    @extend_schema(summary="The sample's differential count against the reference intervals",
                   responses={200: DifferentialSerializer, 404: NOT_FOUND})
    def get(self, request, pk: int):
        sample = self.get_object()
        rows = selectors.sample_differential(sample=sample)
        return Response(DifferentialSerializer({"sample": sample, "total": sum(row.count for row in rows),
                                                "queued_count": sample.queued_count, "rows": rows}).data)


class SampleVerifyApi(SampleApi):
    @extend_schema(summary="Verify (sign off) the sample: reviewers only, once every cell is confirmed, corrected "
                           "or excluded; then nothing in it changes", request=None,
                   responses={200: SampleSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND})
    def post(self, request, pk: int):
        services.sample_verify(sample=self.get_object(), reviewer=request.user)
        return Response(self.get_serializer(self.get_object()).data)


class SampleUnverifyApi(SampleApi):
    @extend_schema(summary="Un-verify a verified sample, with the reason (the un-verify permission only)",
                   request=ReasonSerializer, responses={200: SampleSerializer, 400: INVALID, 403: FORBIDDEN,
                                                        404: NOT_FOUND})
    def post(self, request, pk: int):
        sample = self.get_object()
        fields = ReasonSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        services.sample_unverify(sample=sample, actor=request.user, reason=fields.validated_data["reason"])
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema_view(get=extend_schema(summary="The sample's audit trail, newest first",
                                      responses={200: SampleEventSerializer(many=True), 404: NOT_FOUND}))
class SampleEventsApi(generics.ListAPIView):
    serializer_class = SampleEventSerializer

    def get_queryset(self):
        sample = selectors.sample_get(user=self.request.user, pk=self.kwargs["pk"])
        return selectors.sample_events(sample=sample)


class ModelVersionApi(APIView):
    @extend_schema(summary="The active model: architecture, classes and metrics",
                   responses={200: ModelVersionSerializer, 404: NOT_FOUND})
    def get(self, request):
        version = selectors.model_version_active()
        if version is None:
            raise NotFound("No trained model is registered yet. Run `python manage.py train_model`, then "
                           "`python manage.py evaluate_model`.")
        return Response(ModelVersionSerializer(version, context={"runtime": selectors.model_runtime()}).data)

