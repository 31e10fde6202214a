from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.9731 -> '97.3%'; probabilities are stored as fractions."""
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return ""
