"""Errors services raise; the edges (views, sockets, CLI) map them to responses."""


class ServiceError(Exception):
    pass


class NotFound(ServiceError):
    """Missing, or not the caller's to see: the two look the same from outside."""


class InvalidInput(ServiceError):
    pass


class Forbidden(ServiceError):
    """Seen, but not the caller's to change (an agent transferring another team's conversation)."""
