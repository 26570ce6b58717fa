"""Click options generated from the customize option table (:mod:`ignkit.live.options`).

``@customize_options("iso")`` on a command adds one click option per table row the image kind
takes, and calls the command with ``options=`` a checked :class:`~ignkit.live.options.CustomizeOptions`
instead of one keyword per option. ``embed`` / ``iso customize`` and ``pxe customize`` use it;
any other command that takes the same options (``serve``) needs that one line.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar, Union

import click

from ..live.kinds import ImageKind

F = TypeVar("F", bound=Callable[..., Any])


def customize_options(image: Union[ImageKind, str], *, per_host: bool = True) -> Callable[[F], F]:
    """Decorate a click command with the customize options of ``image`` (``"iso"`` or ``"pxe"``);
    ``per_host=False`` leaves out the rows that only an inventory gives per host (``serve``)."""
    from ..live.options import check_values, options_for, options_from_cli

    rows = tuple(o for o in options_for(image) if per_host or not o.per_host)

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def command(*args: Any, **kw: Any) -> Any:
            options = options_from_cli({o.field: kw.pop(o.field) for o in rows})
            check_values(options)  # refused values fail here, before any input is opened
            return f(*args, options=options, **kw)

        wrapped: Any = command
        for o in reversed(rows):
            if o.is_flag:
                wrapped = click.option(*o.flags, o.field, is_flag=True, help=o.help)(wrapped)
            else:
                wrapped = click.option(*o.flags, o.field, metavar=o.metavar, multiple=o.multiple,
                                       help=o.help)(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate
