"""Serializers: the shape of the API's input and output only; services decide what is acceptable."""

from __future__ import annotations

from rest_framework import serializers

from classifier import selectors
from classifier.models import (
    CLASS_CHOICES,
    EXCLUSION_REASON_MAX_LENGTH,
    Lab,
    ModelVersion,
    Prediction,
    Sample,
    SampleEvent,
)
from classifier.uploads import formats_text


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


class PredictionSerializer(serializers.ModelSerializer):
    probabilities = serializers.DictField(child=serializers.FloatField(), help_text="Probability of every class.")
    review_reasons = serializers.ListField(child=serializers.CharField(),
                                           help_text="Why the prediction needs review: low_confidence, no_nucleus, …")
    final_label = serializers.ChoiceField(choices=CLASS_CHOICES, help_text="The reviewer's label, else the model's.")
    recognised = serializers.BooleanField(read_only=True, help_text="False when an image check (blank, no_nucleus, "
                                          "unlike_training_images) says this is probably not a white cell the "
                                          "model knows: then predicted_label is no result, and the pages headline "
                                          "\"Not recognised as a white-cell image\".")
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    model_version = serializers.SlugRelatedField(slug_field="sha256", read_only=True)
    preview_url = serializers.HyperlinkedIdentityField(view_name="api:prediction-preview",
                                                       help_text="JPEG preview (owner and staff).")
    image_url = serializers.HyperlinkedIdentityField(view_name="api:prediction-image",
                                                     help_text="The uploaded file (owner and staff).")

    class Meta:
        model = Prediction
        fields = ["id", "sample", "original_filename", "predicted_label", "confidence", "probabilities",
                  "nucleus_found", "needs_review", "review_reasons", "recognised", "reviewed_label", "reviewed_by",
                  "reviewed_at", "excluded", "exclusion_reason", "final_label", "model_version", "inference_ms",
                  "image_width", "image_height", "created_at", "preview_url", "image_url"]
        read_only_fields = fields


class UploadResultSerializer(serializers.Serializer):
    predictions = PredictionSerializer(many=True)
    queued = serializers.IntegerField(required=False, help_text="Images stored and waiting for a worker (202).")
    errors = UploadFailureSerializer(many=True, help_text="Files that could not be classified, and why.")


class UploadRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = UploadFailureSerializer(many=True)


class ReviewSerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=CLASS_CHOICES, help_text="The class the reviewer confirms or sets.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=EXCLUSION_REASON_MAX_LENGTH,
                                   help_text="Why: kept in the sample's audit trail.")


class SampleSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    lab = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="The lab's slug; null: the "
                                       "owner's alone.")
    reviewed_count = serializers.IntegerField(read_only=True, help_text="Cells confirmed, corrected or excluded: "
                                              "verification needs all of them.")
    verified_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    image_count = serializers.IntegerField(read_only=True)
    flagged_count = serializers.IntegerField(read_only=True, help_text="Images whose prediction needs review.")
    pending_count = serializers.IntegerField(read_only=True, help_text="Flagged images not reviewed yet.")
    queued_count = serializers.IntegerField(read_only=True, help_text="Images stored and waiting for a worker: "
                                            "until 0, the counts and the differential are partial.")
    classification = serializers.SerializerMethodField(help_text='"n of m classified".')

    class Meta:
        model = Sample
        fields = ["id", "identifier", "notes", "owner", "lab", "created_at", "is_verified", "verified_at",
                  "verified_by", "image_count", "reviewed_count", "flagged_count", "pending_count", "queued_count",
                  "classification"]
        read_only_fields = fields

    def get_classification(self, sample) -> str:
        return str(selectors.sample_classification(sample=sample))


class SampleCreateSerializer(serializers.Serializer):
    identifier = serializers.CharField(max_length=Sample._meta.get_field("identifier").max_length,
                                       help_text="Laboratory sample number; never a patient name.")
    notes = serializers.CharField(required=False, default="", allow_blank=True,
                                  max_length=Sample._meta.get_field("notes").max_length,
                                  help_text="Optional; no patient names or other personal data.")
    lab = serializers.SlugRelatedField(slug_field="slug", queryset=Lab.objects.none(), required=False,
                                       allow_null=True, default=None,
                                       help_text="The slug of one of your labs; left out: the sample is yours alone.")

    def __init__(self, *args, labs=None, **kwargs):
        """``labs``: the labs the user is a member of; any other slug is refused as unknown (the schema generator
        passes none)."""
        super().__init__(*args, **kwargs)
        if labs is not None:
            self.fields["lab"].queryset = labs


class SampleEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SampleEvent
        fields = ["at", "kind", "actor", "prediction", "cell", "from_label", "to_label", "reason"]
        read_only_fields = fields


class DifferentialRowSerializer(serializers.Serializer):
    class_name = serializers.ChoiceField(choices=CLASS_CHOICES)
    label = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.FloatField()
    reference_low = serializers.FloatField(help_text="Lower end of the adult reference interval, in percent.")
    reference_high = serializers.FloatField(help_text="Upper end of the adult reference interval, in percent.")
    flag = serializers.ChoiceField(choices=["low", "high", ""], help_text="Outside the reference interval.")


class DifferentialSerializer(serializers.Serializer):
    sample = serializers.IntegerField(source="sample.pk")
    total = serializers.IntegerField(help_text="Number of classified cells.")
    queued_count = serializers.IntegerField(help_text="Images still waiting for a worker; the rows are partial "
                                                      "until 0.")
    rows = DifferentialRowSerializer(many=True)


class ModelVersionSerializer(serializers.ModelSerializer):
    """A model version; ``context["runtime"]`` names the runtime serving it."""

    class_names = serializers.ListField(child=serializers.CharField())
    metrics = serializers.DictField(help_text="Validation and evaluation results, as recorded by the commands.")
    runtime = serializers.SerializerMethodField(help_text="Which runtime computes the predictions of the server "
                                                          "process that answers, e.g. 'openvino 2026.4.1 (f32, CPU)'.")

    class Meta:
        model = ModelVersion
        fields = ["name", "sha256", "base_network", "input_size", "class_names", "metrics", "trained_at",
                  "registered_at", "runtime"]
        read_only_fields = fields

    def get_runtime(self, version) -> str:
        return self.context.get("runtime", "")
