"""Samples (one blood smear each): the list, the sample page with its differential, and its batch upload."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifier import model_gateway
from classifier.forms import SampleUploadForm
from classifier.models import REASON_MAX_LENGTH, REVIEW_PERMISSION
from classifier.services.waiting import sample_images_add
from classifier.views.common import error_text
from labs import differential, selectors
from labs.forms import SampleForm
from labs.models import UNVERIFY_PERMISSION
from labs.services.samples import sample_create

UPLOAD_CHUNK_FILES = 16  # files per request sent by the JS uploader: progress moves, requests stay small


REVIEW_QUEUE = "lab"  # ?queue=lab: the samples awaiting the user's labs' review


@login_required
@require_http_methods(["GET", "POST"])
def sample_list(request):
    """The samples, or (``?queue=lab``) those awaiting the user's labs' review; and the new-sample form."""
    labs = selectors.lab_list(user=request.user)
    form = SampleForm(request.POST, labs=labs) if request.method == "POST" else SampleForm(labs=labs)
    if form.is_bound and form.is_valid():
        try:
            sample = sample_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Sample {sample.identifier} created: add its cell images.")
            return redirect("labs:sample_detail", pk=sample.pk)
    status = 400 if form.is_bound else 200
    queue = selectors.sample_review_queue(user=request.user)
    in_queue = request.GET.get("queue") == REVIEW_QUEUE
    return render(
        request,
        "labs/samples/list.html",
        {
            "form": form,
            "samples": queue if in_queue else selectors.sample_list_with_counts(user=request.user),
            "in_queue": in_queue,
            "queue_count": queue.count(),
            "has_labs": labs.exists(),
        },
        status=status,
    )


@login_required
@require_GET
def sample_detail(request, pk: int):
    sample = selectors.sample_get_with_counts(user=request.user, pk=pk)
    report = differential.sample_report(sample=sample)
    return render(
        request,
        "labs/samples/detail.html",
        {
            "sample": sample,
            "report": report,
            "differential": report.differential,
            "total": report.counted,
            "gallery": differential.sample_gallery(sample=sample),
            "upload_form": SampleUploadForm(),
            "can_upload": selectors.sample_is_member(user=request.user, sample=sample) and not sample.is_verified,
            "can_review": request.user.has_perm(REVIEW_PERMISSION),
            "verify_refusal": _verify_refusal(request, sample),
            "can_unverify": request.user.has_perm(UNVERIFY_PERMISSION) and sample.is_verified,
            "four_eyes_refusal": selectors.sample_four_eyes_refusal(sample=sample, reviewer=request.user),
            "revisions": selectors.sample_revisions(sample=sample),
            "reason_max_length": REASON_MAX_LENGTH,
            "counts": report.review_counts,
            "events": selectors.sample_events(sample=sample),
            "chunk_files": UPLOAD_CHUNK_FILES,
            "model_versions": report.model_versions,
        },
    )


def _verify_refusal(request, sample):
    """Why Verify would be refused, shown beside it instead of a confirmation (reviewers of an open sample only)."""
    if request.user.has_perm(REVIEW_PERMISSION) and not sample.is_verified:
        return selectors.sample_verify_refusal(sample)
    return None


def _upload_answer(request, sample, *, added=None, error: str = ""):
    """Messages and a redirect back to the sample page (the JS uploader calls the REST endpoint instead)."""
    if error:
        messages.error(request, error)
    if added is not None:
        for failure in added.failures:
            messages.error(request, f"Not classified: {failure.reason}")
        for already in added.already:
            messages.info(request, f"{already.reason} It is stored once.")
        if added.predictions:
            messages.success(
                request, f"{len(added.predictions)} image(s) classified and added to sample {sample.identifier}."
            )
        if added.waiting:
            messages.success(
                request, f"{added.waiting} image(s) stored in sample {sample.identifier}; they are being classified."
            )
    return redirect("labs:sample_detail", pk=sample.pk)


@login_required
@require_POST
def sample_upload(request, pk: int):
    """The form post without JavaScript: one request, which is the whole upload."""
    sample = selectors.sample_get(user=request.user, pk=pk)
    form = SampleUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_answer(
            request, sample, error=" ".join(form.errors.get("images", ["The upload was not understood."]))
        )
    try:
        added = sample_images_add(owner=request.user, sample=sample, uploads=form.cleaned_data["images"])
    except model_gateway.ModelUnavailable as error:
        return _upload_answer(request, sample, error=f"The classifier is not available: {error}")
    except ValidationError as error:
        return _upload_answer(request, sample, error=error_text(error))
    return _upload_answer(request, sample, added=added)
