"""A local look-alike of the LINE platform, for tests, benchmarks and demos.

``spec`` checks requests against LINE's OpenAPI spec, ``standin`` answers them
like LINE's Messaging API does, and ``server`` serves any ASGI app over real
HTTP on an ephemeral port.
"""
