"""The Model page: the loaded model's version and the metrics the model commands stored on it."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from classifier import model_gateway


@login_required
def model_info(request):
    return render(
        request,
        "classifier/model.html",
        {"version": model_gateway.active_version(), "runtime": model_gateway.runtime_name()},
    )


@login_required
def model_confusion_png(request):
    """The confusion matrix of one evaluation set (``?set=kaggle TEST``) of the active model."""
    version = model_gateway.active_version()
    evaluations = version.metrics.get("evaluation", {}) if version else {}
    evaluation = evaluations.get(request.GET.get("set", ""))
    if not evaluation:
        raise Http404("The active model has no evaluation of that set yet.")
    return HttpResponse(model_gateway.confusion_png(evaluation), content_type="image/png")
