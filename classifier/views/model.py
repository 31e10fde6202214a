"""The Model page: the loaded model's version and the metrics the model commands stored on it."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from classifier import model_gateway, selectors


@login_required
def model_info(request):
    return render(request, "classifier/model.html", {"version": selectors.model_version_active()})


@login_required
def model_confusion_png(request):
    version = selectors.model_version_active()
    evaluation = version.metrics.get("evaluation", {}).get("TEST") if version else None
    if not evaluation:
        raise Http404("The active model has no TEST evaluation yet.")
    return HttpResponse(model_gateway.confusion_png(evaluation), content_type="image/png")
