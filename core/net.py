"""Who is asking: the client's address behind the project's own proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address, as our own proxies saw it; also django-axes' (AXES_CLIENT_IP_CALLABLE).

    Each proxy appends the address it was reached from to X-Forwarded-For, after whatever the client
    sent. So only the last ATTEST_TRUSTED_PROXY_COUNT entries are ours, and the left-most of them is
    the client's; anything further left is the client's own claim, which anyone can forge.
    """
    count = settings.ATTEST_TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            candidate = forwarded[max(len(forwarded) - count, 0)]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass  # not written by a proxy of ours: the peer's address is all we know
    return request.META.get("REMOTE_ADDR") or None


def client_network(address: str) -> str:
    """The address, or for IPv6 its /64: one subscriber's, who can pick any address inside it. A client
    is counted by this, by every throttle, so that it cannot escape its budget by changing address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))
