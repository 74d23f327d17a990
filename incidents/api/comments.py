"""What commenting on an incident and on an alert share over the API: the body, the answer and their description."""

from collections.abc import Callable

from rest_framework import status
from rest_framework.response import Response

from incidents.api import examples
from incidents.api.serializers import CommentSerializer
from incidents.models import Comment

__all__ = ("COMMENT_LIST_SCHEMA", "comment_created")

COMMENT_LIST_SCHEMA = {
    "description": "Newest first.",
    "responses": {200: CommentSerializer(many=True)},
    "examples": [examples.COMMENT_PAGE],
}


def comment_created(request, write: Callable[[str], Comment]) -> Response:
    """Validate the comment's body, `write(text)` it through the comment service, and answer 201 with it."""
    body = CommentSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    comment = write(body.validated_data["text"])
    return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
