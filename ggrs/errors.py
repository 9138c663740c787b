"""The one error hierarchy of ggrs.

Every error that reaches a user is a :class:`GgrsError`. Its message says what
failed, with which ids or values, and what to do; entry points print it on one
line and exit with :attr:`GgrsError.exit_code`.
"""

from __future__ import annotations


class GgrsError(Exception):
    """Base class of every error ggrs raises on purpose."""

    exit_code = 1


class UsageError(GgrsError):
    """A flag, property or mapping has a value that is not allowed."""

    exit_code = 2


class DataError(GgrsError):
    """The input table cannot be plotted (unreadable, missing column, wrong type)."""


class LayoutError(GgrsError):
    """The requested size leaves no room for the panels, or is more than can be drawn."""


class BackendUnavailable(GgrsError):
    """An aggregation backend was requested that cannot run on this machine."""


class RemoteError(GgrsError):
    """A call to the Tercen server failed; the message names the call and the ids."""


class RemoteUnavailable(RemoteError):
    """The server is unreachable or overloaded (UNAVAILABLE, RESOURCE_EXHAUSTED, a cut stream).

    The one transient kind: callers retry it with backoff, bounded by total time.
    """


class RemoteDeadlineExceeded(RemoteError):
    """A call did not finish within its deadline."""


class RemoteAuthError(RemoteError):
    """The server refused the token (UNAUTHENTICATED or PERMISSION_DENIED)."""


class RemoteNotFound(RemoteError):
    """An object the task refers to (task, table, file, workflow) does not exist."""


class Interrupted(GgrsError):
    """The run was stopped by a signal (SIGTERM, SIGINT) before it finished."""

    exit_code = 143
