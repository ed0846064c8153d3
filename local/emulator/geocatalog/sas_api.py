"""`/sas`: container tokens for managed storage, signing of hrefs, revocation."""

from __future__ import annotations

from starlette.responses import Response

from local.emulator.geocatalog.clock import format_seconds
from local.emulator.geocatalog.errors import bad_request, collection_not_found
from local.emulator.geocatalog.http import RequestContext, RouteSpec, empty_response, json_response


async def get_token(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.path("collectionId")
    minutes = ctx.duration_minutes()
    with emu.lock:
        record = emu.state.collections.get(collection_id)
        if record is None:
            raise collection_not_found(collection_id)
        token, expiry = emu.sas_token(record.container, minutes)
    return json_response({"msft:expiry": format_seconds(expiry), "token": token})


async def sign_href(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    href = ctx.query("href")
    if not href:
        raise bad_request("Query parameter 'href' is required.", "InvalidParameter")
    minutes = ctx.duration_minutes()
    location = emu.managed_location(href)
    with emu.lock:
        known = location is not None and location[0] in emu.state.containers
    if location is None or not known:
        # Hrefs outside this catalog's managed storage come back unsigned.
        return json_response({"href": href})
    token, expiry = emu.sas_token(location[0], minutes)
    return json_response(
        {"msft:expiry": format_seconds(expiry), "href": f"{href.split('?', 1)[0]}?{token}"}
    )


async def revoke_token(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    with emu.lock:
        emu.signer.revoke()
    return empty_response(200)


def routes() -> list[RouteSpec]:
    return [
        RouteSpec("/sas/token/revoke", ("POST",), revoke_token),
        RouteSpec("/sas/token/{collectionId}", ("GET",), get_token),
        RouteSpec("/sas/sign", ("GET",), sign_href),
    ]
