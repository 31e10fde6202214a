"""Model versions, read-only: the model commands and the gateway register them."""

from django.contrib import admin

from registry.models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "base_network", "input_size", "sha256_short", "trained_at", "registered_at")
    search_fields = ("name", "sha256")
    readonly_fields = (
        "name",
        "file_path",
        "sha256",
        "base_network",
        "input_size",
        "class_names",
        "metrics",
        "trained_at",
        "registered_at",
    )

    @admin.display(description="sha256")
    def sha256_short(self, version):
        return version.sha256[:12]
