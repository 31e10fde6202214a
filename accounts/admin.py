from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import ApiToken, User
from accounts.selectors import token_is_expired

admin.site.register(User, UserAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens by their prefix: the key is not stored, and its digest is not shown. Staff may end a token
    (delete it); tokens are issued only by the token endpoint, which shows the key once."""

    list_display = ("prefix_shown", "user", "created", "expired")
    list_select_related = ("user",)
    search_fields = ("prefix", "user__username")
    fields = ("prefix_shown", "user", "created", "expired")
    readonly_fields = fields

    @admin.display(description="token")
    def prefix_shown(self, token: ApiToken) -> str:
        return f"{token.prefix}…"

    @admin.display(boolean=True)
    def expired(self, token: ApiToken) -> bool:
        return token_is_expired(token=token)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
