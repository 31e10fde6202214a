"""The adaptation benchmark: a stand-in laboratory (N cells per class of a source its shared model never saw)
taken through the real path — uploaded and classified, reviewed, verified in a lab — then ``adapt_model``.

Run by ``manage.py benchmark_adaptation`` on a throwaway database (``make bench-adaptation``); the figures go in
docs/model-card.md ("Adapting to a laboratory").
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier.services.waiting import sample_images_add
from labs.apps import REVIEWERS_GROUP
from labs.models import Lab, Sample
from labs.services.review import prediction_review
from labs.services.samples import sample_create
from labs.services.sign_off import sample_verify
from ml import CLASS_NAMES, MODEL_CLASSES
from ml.data import DatasetError
from ml.sources import Source, cap_per_class, parse_source, training_images

UPLOAD_CHUNK = 50  # files per upload call, as the sample page sends them
STANDIN_SEED = 7  # which N cells per class the stand-in lab "has"; a smaller N is a subset of a larger one


def standin_source(text: str) -> Source:
    """The stand-in lab's source from ``NAME=PATH``; ``ValueError`` when it cannot be read."""
    try:
        return parse_source(text)
    except DatasetError as error:
        raise ValueError(str(error)) from error


def standin_cells(source: Source, per_class: int) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, class) of ``per_class`` training cells of each of the four classes of ``source`` (never
    its held-out fifth, which stays the evaluation set)."""
    images = [image for image in training_images(source) if image.label < len(CLASS_NAMES)]
    return [
        (image.path.name, image.path.read_bytes(), MODEL_CLASSES[image.label])
        for image in cap_per_class(images, per_class, STANDIN_SEED)
    ]


def standin_lab_make(slug: str, cells: list[tuple[str, bytes, str]]) -> Lab:
    """A lab whose one verified sample holds ``cells``: uploaded (classified by the shared model), each reviewed
    to its true class by a reviewer, then verified, exactly as the app does it."""
    users = get_user_model().objects
    technologist = users.create_user(username=f"{slug}-technologist")
    reviewer = users.create_user(username=f"{slug}-reviewer")
    reviewer.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    reviewer = users.get(pk=reviewer.pk)
    lab = Lab.objects.create(name=f"Stand-in lab {slug}", slug=slug)
    lab.members.add(technologist, reviewer)
    sample = sample_create(owner=technologist, identifier=f"{slug}-cells", lab=lab)
    labels = {}
    for start in range(0, len(cells), UPLOAD_CHUNK):
        chunk = cells[start : start + UPLOAD_CHUNK]
        uploads = [SimpleUploadedFile(name, data, content_type="image/jpeg") for name, data, _ in chunk]
        added = sample_images_add(owner=technologist, sample=sample, uploads=uploads)
        if added.failures or added.already:
            raise ValueError(f"{len(added.failures + added.already)} stand-in cells were refused or repeated.")
        predictions = added.predictions
        labels |= {prediction.pk: label for prediction, (_, _, label) in zip(predictions, chunk, strict=True)}
    for prediction in Sample.objects.get(pk=sample.pk).predictions.all():
        prediction_review(prediction=prediction, reviewer=reviewer, label=labels[prediction.pk])
    sample_verify(sample=sample, reviewer=reviewer)
    return lab
