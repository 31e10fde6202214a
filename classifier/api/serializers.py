"""Serializers of predictions and the model: the shape of the API's input and output only; services decide what
is acceptable."""

from __future__ import annotations

import copy

from rest_framework import serializers

from classifier.models import LABEL_CHOICES, Prediction, ReviewReason
from classifier.uploads import formats_text
from registry.models import ModelVersion


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words for the user.")


class UploadFailureSerializer(serializers.Serializer):
    filename = serializers.CharField()
    reason = serializers.CharField()


class UploadSerializer(serializers.Serializer):
    images = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),  # empty files are reported per file by the service
        allow_empty=False,  # the file limit (ZIP members counted) is the service's: refused with a detail
        help_text=f"One or more {formats_text()} images, or ZIP archives of them; repeat the field per file.",
    )


class FieldsBuiltOnce:
    """A ModelSerializer whose fields are built from its model once per class, then copied for each instance.

    DRF builds a ModelSerializer's fields on every instantiation, from the model's field definitions (kwargs,
    uniqueness, relations): most of the serializer's work in a single-image upload's answer (docs/experiments.md,
    "The single-image request under gunicorn"). They depend on the class alone (its Meta and declared fields), so
    each instance gets a copy of the first build, copied as DRF copies declared fields, and binds it as before.
    """

    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built  # a race builds it twice, the same fields: nothing to lock
        return copy.deepcopy(built)


class PredictionSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    probabilities = serializers.DictField(child=serializers.FloatField(), help_text="Probability of every class.")
    review_reasons = serializers.ListField(
        child=serializers.CharField(), help_text=f"Why the prediction needs review: {', '.join(ReviewReason.values)}."
    )
    final_label = serializers.ChoiceField(choices=LABEL_CHOICES, help_text="The reviewer's label, else the model's.")
    counted = serializers.BooleanField(
        read_only=True,
        help_text="Whether the cell counts in its sample's four-class differential: not excluded, its final label one "
        "of the four, and recognised or labelled by a reviewer.",
    )
    recognised = serializers.BooleanField(
        read_only=True,
        help_text="False when an image check (blank, no_nucleus, "
        "unlike_training_images) says this is probably not a white cell the "
        "model knows: then predicted_label is no result, and the pages headline "
        '"Not recognised as a white-cell image".',
    )
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    model_version = serializers.SlugRelatedField(slug_field="sha256", read_only=True)
    preview_url = serializers.HyperlinkedIdentityField(
        view_name="api:prediction-preview", help_text="JPEG preview (owner and staff)."
    )
    image_url = serializers.HyperlinkedIdentityField(
        view_name="api:prediction-image", help_text="The uploaded file (owner and staff)."
    )

    class Meta:
        model = Prediction
        fields = [
            "id",
            "sample",
            "original_filename",
            "predicted_label",
            "confidence",
            "probabilities",
            "nucleus_found",
            "needs_review",
            "review_reasons",
            "recognised",
            "reviewed_label",
            "reviewed_by",
            "reviewed_at",
            "excluded",
            "exclusion_reason",
            "final_label",
            "counted",
            "model_version",
            "inference_ms",
            "runtime",
            "image_width",
            "image_height",
            "created_at",
            "preview_url",
            "image_url",
        ]
        read_only_fields = fields


class UploadResultSerializer(serializers.Serializer):
    predictions = PredictionSerializer(many=True)
    waiting = serializers.IntegerField(required=False, help_text="Images stored and waiting for a worker (202).")
    errors = UploadFailureSerializer(many=True, help_text="Files that could not be classified, and why.")


class UploadRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = UploadFailureSerializer(many=True)


class ModelVersionSerializer(serializers.ModelSerializer):
    """A model version; ``context["runtime"]`` names the runtime serving it."""

    class_names = serializers.ListField(child=serializers.CharField())
    metrics = serializers.DictField(help_text="Validation and evaluation results, as recorded by the commands.")
    runtime = serializers.SerializerMethodField(
        help_text="Which runtime computes the predictions of the server "
        "process that answers, e.g. 'openvino 2026.4.1 (f32, CPU)'."
    )

    class Meta:
        model = ModelVersion
        fields = [
            "name",
            "sha256",
            "base_network",
            "input_size",
            "class_names",
            "metrics",
            "trained_at",
            "registered_at",
            "runtime",
        ]
        read_only_fields = fields

    def get_runtime(self, version) -> str:
        return self.context.get("runtime", "")
