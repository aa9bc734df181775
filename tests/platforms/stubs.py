"""Answers of RDAP services for the local stub servers (tests/servers.py) in platform tests."""

from __future__ import annotations

import json
from typing import Any

from tests.servers import Response
from tests.servers import serve_handler as serve

__all__ = ["json_response", "rdap_domain_answer", "rdap_ip_answer", "serve"]


def rdap_ip_answer(*, name: str, org: str, abuse: str) -> dict[str, Any]:
    """An RDAP IP network answer shaped like ARIN's and RIPE's (RFC 9083)."""
    return {
        "rdapConformance": ["rdap_level_0"],
        "objectClassName": "ip network",
        "handle": "NET-203-0-113-0-1",
        "name": name,
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["registrant"],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", org]]],
                "entities": [
                    {
                        "objectClassName": "entity",
                        "roles": ["abuse"],
                        "vcardArray": [
                            "vcard",
                            [
                                ["version", {}, "text", "4.0"],
                                ["fn", {}, "text", "Abuse desk"],
                                ["email", {}, "text", abuse],
                            ],
                        ],
                    }
                ],
            }
        ],
    }


def rdap_domain_answer(*, domain: str, registrar: str, abuse: str) -> dict[str, Any]:
    return {
        "objectClassName": "domain",
        "ldhName": domain.upper(),
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["registrar"],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", registrar]]],
                "entities": [
                    {
                        "objectClassName": "entity",
                        "roles": ["abuse"],
                        "vcardArray": [
                            "vcard",
                            [
                                ["version", {}, "text", "4.0"],
                                ["email", {}, "text", abuse],
                                ["tel", {"type": "voice"}, "uri", "tel:+1.5555555555"],
                            ],
                        ],
                    }
                ],
            }
        ],
    }


def json_response(payload: Any) -> Response:
    return 200, {"Content-Type": "application/rdap+json"}, json.dumps(payload).encode()
