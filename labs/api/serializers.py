"""Serializers of samples, their review and differential: the shape of the API's input and output only;
services decide what is acceptable."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classifier.api.serializers import UploadFailureSerializer, UploadResultSerializer, UploadSerializer
from classifier.models import CLASS_CHOICES, LABEL_CHOICES, OTHER_KINDS, REASON_MAX_LENGTH
from labs import selectors
from labs.models import IDENTIFIER_HELP, NOTES_HELP, Lab, LabModelChange, Sample, SampleEvent
from labs.selectors import sample_classification, sample_upload_progress

MAX_DECLARED_FILES = 1_000_000


class ReviewSerializer(serializers.Serializer):
    label = serializers.ChoiceField(
        choices=LABEL_CHOICES,
        help_text="The class the reviewer confirms or sets; one of the other kinds (BASOPHIL, …) takes the cell out "
        "of the four-class count and lists it apart.",
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, help_text="Why: kept in the sample's audit trail.")


class UploadProgressSerializer(serializers.Serializer):
    """A sample upload: what it declared, what arrived (``labs.selectors.UploadProgress``)."""

    id = serializers.IntegerField(help_text="Send it as `upload` with the upload's next files.")
    expected_count = serializers.IntegerField(source="expected", help_text="Files the upload declared it sends.")
    received_count = serializers.IntegerField(
        source="received", help_text="Files that arrived: stored, already in the sample, or refused with a reason."
    )
    state = serializers.ChoiceField(
        choices=["receiving", "interrupted", "complete"],
        help_text="interrupted: fewer files arrived than declared and no request of the upload is running.",
    )
    status = serializers.SerializerMethodField(
        help_text='"upload interrupted: 50 of 100 received"; empty once complete.'
    )

    def get_status(self, progress) -> str:
        return str(progress)


class SampleUploadSerializer(UploadSerializer):
    expected_count = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DECLARED_FILES,
        help_text="How many files the whole upload sends, over all its requests (a ZIP counts as one); left out: "
        "this request's files. Until they have arrived the sample says 'upload interrupted: n of m received'.",
    )
    upload = serializers.IntegerField(
        required=False, min_value=1, help_text="Go on with this upload: its id, from the answer to its first request."
    )


class SampleUploadResultSerializer(UploadResultSerializer):
    already_in_sample = UploadFailureSerializer(
        many=True, help_text="Files the sample holds already (the same bytes): answered, stored once, not again."
    )
    upload = UploadProgressSerializer(help_text="The upload these files belong to, once this request was over.")


class SampleSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    lab = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The lab's slug; null: the owner's alone."
    )
    reviewed_count = serializers.IntegerField(
        read_only=True, help_text="Cells confirmed, corrected or excluded: verification needs all of them."
    )
    verified_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    image_count = serializers.IntegerField(read_only=True)
    flagged_count = serializers.IntegerField(read_only=True, help_text="Images whose prediction needs review.")
    unreviewed_count = serializers.IntegerField(read_only=True, help_text="Flagged images not reviewed yet.")
    waiting_count = serializers.IntegerField(
        read_only=True,
        help_text="Images stored and waiting for a worker: until 0, the counts and the differential are partial.",
    )
    classification = serializers.SerializerMethodField(help_text='"n of m classified".')
    last_upload = serializers.SerializerMethodField(
        help_text="The sample's latest upload (null before any): 'interrupted' while files it declared are missing."
    )

    class Meta:
        model = Sample
        fields = [
            "id",
            "identifier",
            "notes",
            "owner",
            "lab",
            "created_at",
            "is_verified",
            "verified_at",
            "verified_by",
            "image_count",
            "reviewed_count",
            "flagged_count",
            "unreviewed_count",
            "waiting_count",
            "classification",
            "last_upload",
        ]
        read_only_fields = fields

    def get_classification(self, sample) -> str:
        return str(sample_classification(sample=sample))

    @extend_schema_field(UploadProgressSerializer(allow_null=True))
    def get_last_upload(self, sample) -> dict | None:
        progress = sample_upload_progress(sample=sample)
        return None if progress is None else UploadProgressSerializer(progress).data


class SampleCreateSerializer(serializers.Serializer):
    identifier = serializers.CharField(
        max_length=Sample._meta.get_field("identifier").max_length, help_text=IDENTIFIER_HELP
    )
    notes = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=Sample._meta.get_field("notes").max_length,
        help_text=NOTES_HELP,
    )
    lab = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Lab.objects.none(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The slug of one of your labs; left out: the sample is yours alone.",
    )

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
        fields = ["at", "kind", "actor", "prediction", "cell", "from_label", "to_label", "reason", "report_sha256"]
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
    total = serializers.IntegerField(
        help_text="Cells counted in the four-class differential: not excluded, one of the four, recognised or reviewed."
    )
    other_cells = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=f"Cells of the other kinds, not counted, by kind: {', '.join(OTHER_KINDS)}.",
    )
    not_recognised = serializers.IntegerField(
        help_text="Images the checks do not recognise as a white cell and no reviewer labelled: not counted."
    )
    excluded = serializers.IntegerField(help_text="Cells a reviewer excluded: not counted.")
    waiting_count = serializers.IntegerField(
        help_text="Images still waiting for a worker; the rows are partial until 0."
    )
    rows = DifferentialRowSerializer(many=True)


class LabModelChangeSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    candidate = serializers.SlugRelatedField(slug_field="name", read_only=True)
    previous_model = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = LabModelChange
        fields = [
            "id",
            "kind",
            "status",
            "requested_by",
            "requested_at",
            "finished_at",
            "progress",
            "message",
            "previous_model",
            "candidate",
            "training_cells",
            "evaluations",
        ]
        read_only_fields = fields


class LabModelSerializer(serializers.ModelSerializer):
    active_model = serializers.SerializerMethodField(help_text="The lab's own model; null: the shared model.")
    changes = serializers.SerializerMethodField()

    class Meta:
        model = Lab
        fields = ["slug", "name", "active_model", "changes"]
        read_only_fields = fields

    def get_active_model(self, lab: Lab) -> dict | None:
        version = lab.active_model
        return None if version is None else {"name": version.name, "sha256": version.sha256}

    def get_changes(self, lab: Lab) -> list[dict]:
        return LabModelChangeSerializer(selectors.lab_model_changes(lab=lab)[:20], many=True).data
