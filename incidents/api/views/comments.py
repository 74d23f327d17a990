"""
The `comments` action the incident and alert viewsets share: GET lists the object's comments, newest first; POST
adds one through the comment service, which also writes it to the object's activity log.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from incidents.api import examples
from incidents.api.serializers import CommentSerializer
from incidents.api.views.base import sub_list_action
from incidents.services.incidents import comment_add

__all__ = ("comments_action",)


def comments_action(target: str):
    """
    The `comments` action of the viewset over `target` ("incident" or "alert", the Comment field naming it). Reading
    needs the object in the caller's scope (the viewset's get_object); writing, in their change scope (the service).
    """

    @extend_schema(
        methods=["GET"],
        operation_id=f"{target}s_comments_list",
        summary=f"List an {target}'s comments",
        description="Newest first.",
        responses={200: CommentSerializer(many=True)},
        examples=[examples.COMMENT],
    )
    @extend_schema(
        methods=["POST"],
        operation_id=f"{target}s_comments_create",
        summary=f"Comment on an {target}",
        description=f"Needs the right to manage the {target}. The comment is also in the {target}'s activity log.",
        request=CommentSerializer,
        responses={201: CommentSerializer},
        examples=[examples.COMMENT_TEXT, examples.COMMENT],
    )
    @sub_list_action(CommentSerializer, methods=("get", "post"))
    def comments(self, request, *args, **kwargs):
        commented = self.get_object()
        if request.method == "GET":
            # The object is in scope (get_object), so its own comments are: comments_for would test every comment
            # against the whole scope.
            return self.page_of(commented.comments.order_by("-created_at", "-id"))
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment = comment_add(actor=request.user, text=body.validated_data["text"], **{f"{target}_id": commented.pk})
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    return comments
