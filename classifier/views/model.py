"""The Model page: the shared model's version and the metrics the model commands stored on it, and which model
each of the user's labs uses (its own, built by ``adapt_model``, or the shared one)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from classifier import model_gateway
from labs.selectors import lab_list


@login_required
def model_info(request):
    return render(
        request,
        "classifier/model.html",
        {
            "version": model_gateway.active_version(),
            "runtime": model_gateway.runtime_name(),
            "labs": lab_list(user=request.user).select_related("active_model"),
        },
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
