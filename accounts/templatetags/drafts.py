"""`{% draft_owner %}`: the hidden field that lets a form's words be kept for its writer (accounts/drafts.py)."""

from django import template
from django.utils.html import format_html

from accounts.drafts import OWNER_FIELD, owner_token

register = template.Library()


@register.simple_tag(takes_context=True)
def draft_owner(context, view_name: str = "") -> str:
    """The signed note for the form posted to `view_name` (by default the page's own view)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    name = view_name or request.resolver_match.view_name
    return format_html('<input type="hidden" name="{}" value="{}">', OWNER_FIELD, owner_token(user, name))
