"""``ignkit serve``: per-host live media, configs and boot scripts over HTTP (see docs/serve.md).

Modules: :mod:`.media` (byte views of a base file with patched spans), :mod:`.ranges` (HTTP range rules),
:mod:`.catalog` (every host composed once with :mod:`ignkit.live.hosts`), :mod:`.app` (aiohttp routes),
:mod:`.status` (progress records and the status page), :mod:`.server` (running it), :mod:`.csr`
(``--approve-csrs``).
"""
