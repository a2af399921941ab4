"""`{{ alert|alert_sentence }}`: the plain sentence a therapist reads for an alert (intimacy/alerts.py)."""

from django import template

from intimacy.alerts import alert_sentence as sentence_for

register = template.Library()


@register.filter
def alert_sentence(alert) -> str:
    return sentence_for(alert)
