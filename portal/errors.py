"""Turning a service's ValidationError into what a page says."""

from django.core.exceptions import ValidationError

__all__ = ("validation_messages",)


def validation_messages(error: ValidationError) -> list[str]:
    """Every message of the error, whether it was raised for fields or as a whole."""
    if hasattr(error, "error_dict"):
        return [message for messages in error.message_dict.values() for message in messages]
    return list(error.messages)
