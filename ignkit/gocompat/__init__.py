"""Go standard-library and go-systemd behaviours Ignition's checks depend on, reimplemented where the
exact failure (and its message) matters: ``path.Clean``, ``net/url.Parse``, ``strconv.Quote``/``Unquote``,
``encoding/base64`` errors and go-systemd's unit-file deserializer. Parsers only: what Ignition makes
of their results is in :mod:`ignkit.ignition.rules`."""
