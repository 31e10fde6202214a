"""Thin API views of samples and their review: querysets come from selectors (already limited to the user),
writes go through services."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from classifier import selectors as prediction_selectors
from classifier.api.serializers import ErrorSerializer, PredictionSerializer, UploadFailureSerializer
from classifier.api.views import FORBIDDEN, INVALID, NOT_FOUND, UPLOAD_RESPONSES, VERIFIED, upload_answer
from classifier.services.waiting import sample_images_add
from labs import differential, selectors
from labs.api.serializers import (
    DifferentialSerializer,
    LabModelChangeSerializer,
    LabModelSerializer,
    ReasonSerializer,
    ReviewSerializer,
    SampleCreateSerializer,
    SampleEventSerializer,
    SampleSerializer,
    SampleUploadResultSerializer,
    SampleUploadSerializer,
    UploadProgressSerializer,
)
from labs.services import lab_models, review, samples, sign_off

REVIEW_RESPONSES = {200: PredictionSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND}


class PredictionReviewActionApi(generics.GenericAPIView):
    """A reviewer's action on one visible prediction: read the body, call ``act``, answer the prediction."""

    def get_queryset(self):
        return prediction_selectors.prediction_list_visible(user=self.request.user)

    def act(self, prediction, reviewer, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, pk: int):
        prediction = self.get_object()
        fields = self.get_serializer(data=request.data)
        fields.is_valid(raise_exception=True)
        self.act(prediction, request.user, fields.validated_data)
        return Response(PredictionSerializer(prediction, context={"request": request}).data)


@extend_schema_view(
    post=extend_schema(
        summary="Confirm or correct a prediction (reviewers only); the model's label is kept",
        responses=REVIEW_RESPONSES,
    )
)
class PredictionReviewApi(PredictionReviewActionApi):
    serializer_class = ReviewSerializer

    def act(self, prediction, reviewer, data: dict) -> None:
        review.prediction_review(prediction=prediction, reviewer=reviewer, label=data["label"])


@extend_schema_view(
    post=extend_schema(
        summary="Exclude a sample's cell from its differential, with the reason (reviewers only)",
        responses=REVIEW_RESPONSES,
    )
)
class PredictionExcludeApi(PredictionReviewActionApi):
    serializer_class = ReasonSerializer

    def act(self, prediction, reviewer, data: dict) -> None:
        review.prediction_exclude(prediction=prediction, reviewer=reviewer, reason=data["reason"])


class SampleApi(generics.GenericAPIView):
    """Samples with their image and flagged counts; every sample URL looks the id up in the user's samples."""

    serializer_class = SampleSerializer

    def get_queryset(self):
        return selectors.sample_list_with_counts(user=self.request.user)


@extend_schema_view(get=extend_schema(summary="List your samples, newest first"))
class SampleListApi(SampleApi, generics.ListAPIView):
    @extend_schema(
        summary="Create a sample (a smear)",
        request=SampleCreateSerializer,
        responses={201: SampleSerializer, 400: INVALID},
    )
    def post(self, request):
        fields = SampleCreateSerializer(data=request.data, labs=selectors.lab_list(user=request.user))
        fields.is_valid(raise_exception=True)
        sample = samples.sample_create(owner=request.user, **fields.validated_data)
        created = self.get_queryset().get(pk=sample.pk)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="One sample", responses={200: SampleSerializer, 404: NOT_FOUND}),
    delete=extend_schema(
        summary="Delete a sample with all its images (its owner or staff; never a verified one)",
        responses={204: None, 400: VERIFIED, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class SampleDetailApi(SampleApi, generics.RetrieveDestroyAPIView):
    def perform_destroy(self, instance):
        samples.sample_delete(sample=instance, actor=self.request.user)


class SampleImagesApi(SampleApi):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Classify images (or ZIP archives) into the sample; an upload may declare its files and span "
        "several requests",
        request=SampleUploadSerializer,
        responses={
            **UPLOAD_RESPONSES,
            200: OpenApiResponse(
                SampleUploadResultSerializer, description="Nothing new: the sample held the files already."
            ),
            201: OpenApiResponse(SampleUploadResultSerializer, description="Classified into the sample."),
            202: OpenApiResponse(
                SampleUploadResultSerializer,
                description="Stored, waiting for the workers (waiting: how many); the sample's waiting_count "
                "falls to 0 once classified.",
            ),
            403: OpenApiResponse(ErrorSerializer),
            404: NOT_FOUND,
        },
    )
    def post(self, request, pk: int):
        sample = self.get_object()
        fields = SampleUploadSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        added = sample_images_add(
            owner=request.user,
            sample=sample,
            uploads=fields.validated_data["images"],
            expected_count=fields.validated_data.get("expected_count"),
            upload_id=fields.validated_data.get("upload"),
        )
        return upload_answer(
            request,
            predictions=added.predictions,
            failures=added.failures,
            waiting=added.waiting,
            already_in_sample=UploadFailureSerializer(added.already, many=True).data,
            upload=UploadProgressSerializer(selectors.upload_progress(added.upload)).data,
        )


class SampleDifferentialApi(SampleApi):
    @extend_schema(
        summary="The sample's differential count against the reference intervals",
        responses={200: DifferentialSerializer, 404: NOT_FOUND},
    )
    def get(self, request, pk: int):
        sample = self.get_object()
        report = differential.sample_report(sample=sample)
        return Response(
            DifferentialSerializer(
                {
                    "sample": sample,
                    "total": report.counted,
                    "other_cells": {row.class_name: row.count for row in report.other_cells},
                    "not_recognised": report.not_recognised,
                    "excluded": report.review_counts["excluded"],
                    "waiting_count": report.waiting,
                    "rows": report.differential,
                }
            ).data
        )


class SampleVerifyApi(SampleApi):
    @extend_schema(
        summary="Verify (sign off) the sample: reviewers only, once every cell is confirmed, corrected "
        "or excluded (under the four-eyes rule, not by whoever un-verified it); its report's next revision is "
        "signed and stored, and the sample is frozen until un-verified",
        request=None,
        responses={200: SampleSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, pk: int):
        sign_off.sample_verify(sample=self.get_object(), reviewer=request.user)
        return Response(self.get_serializer(self.get_object()).data)


class SampleUnverifyApi(SampleApi):
    @extend_schema(
        summary="Un-verify a verified sample, with the reason (the un-verify permission only); its signed report "
        "is withdrawn",
        request=ReasonSerializer,
        responses={200: SampleSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, pk: int):
        sample = self.get_object()
        fields = ReasonSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        sign_off.sample_unverify(sample=sample, actor=request.user, reason=fields.validated_data["reason"])
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema_view(
    get=extend_schema(
        summary="The sample's audit trail, newest first",
        responses={200: SampleEventSerializer(many=True), 404: NOT_FOUND},
    )
)
class SampleEventsApi(generics.ListAPIView):
    serializer_class = SampleEventSerializer

    def get_queryset(self):
        sample = selectors.sample_get(user=self.request.user, pk=self.kwargs["pk"])
        return selectors.sample_events(sample=sample)


class LabModelApi(generics.GenericAPIView):
    serializer_class = LabModelSerializer

    def get_object(self):
        return selectors.lab_get(user=self.request.user, slug=self.kwargs["slug"])

    @extend_schema(
        summary="The lab's model (its own, or null for the shared one) and its model history, newest first",
        responses={200: LabModelSerializer, 404: NOT_FOUND},
    )
    def get(self, request, slug: str):
        return Response(self.get_serializer(self.get_object()).data)


class LabModelBuildApi(LabModelApi):
    @extend_schema(
        summary="Build the lab's own model from its verified cells (the adapt-model permission); it is activated for "
        "this lab only if better on the lab's held-out cells and at most 1 point worse on the shared sets",
        request=None,
        responses={202: LabModelChangeSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, slug: str):
        change = lab_models.lab_model_request(lab=self.get_object(), user=request.user)
        change.refresh_from_db()  # without a broker the build has run by now
        return Response(LabModelChangeSerializer(change).data, status=status.HTTP_202_ACCEPTED)


class LabModelRevertApi(LabModelApi):
    @extend_schema(
        summary="Take the lab back to the shared model (the adapt-model permission)",
        request=None,
        responses={200: LabModelChangeSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, slug: str):
        change = lab_models.lab_model_revert(lab=self.get_object(), user=request.user)
        return Response(LabModelChangeSerializer(change).data)
