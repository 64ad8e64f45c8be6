"""`motionworld serve` with an in-process client: the protocol, input and drags, the guards (token,
origin, limits, busy), dropped pictures, recordings and the replay of a web session."""
import asyncio
import io
import json
import time
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from controllers import keys as sc
from motionworld.play.commands import replay
from motionworld.play.defaults import scene_path
from motionworld.play.web.protocol import ProtocolError, parse, read_frame_header
from motionworld.play.web.server import ServeOptions, Server, check_bind
from tests.conftest import one_error

SIZE = 96  # small frames: the warp backend makes them fast on two cores


def options(**kw):
    return ServeOptions(scene_path("garden"), backend="warp", size=SIZE, **kw)


def run(coro_fn, **kw):
    """Run `coro_fn(client, server)` against a fresh in-process server."""
    server = Server(options(**kw), say=lambda *_: None)

    async def main():
        async with TestClient(TestServer(server.app())) as client:
            return await coro_fn(client, server)

    return asyncio.run(main())


class Page:
    """What the page does, as a test can drive it: read messages, ack frames, send input."""

    def __init__(self, ws):
        self.ws, self.seq, self.frames, self.texts = ws, 0, [], []

    async def send(self, kind, **fields):
        self.seq += 1
        await self.ws.send_json({"type": kind, "seq": self.seq, "t": time.perf_counter() * 1000, **fields})
        return self.seq

    async def pump(self, until, timeout=30.0):
        """Read (acking frames) until `until(page)` or the socket closes; the closing message's data."""
        deadline = time.perf_counter() + timeout
        while not until(self):
            msg = await self.ws.receive(timeout=max(0.1, deadline - time.perf_counter()))
            if msg.type == aiohttp.WSMsgType.BINARY:
                header = read_frame_header(msg.data)
                self.frames.append((header, msg.data[16:]))
                await self.send("ack", frame=header[0])
            elif msg.type == aiohttp.WSMsgType.TEXT:
                self.texts.append(json.loads(msg.data))
            else:
                return msg
            assert time.perf_counter() < deadline, "timed out"
        return None

    def of(self, kind):
        return [t for t in self.texts if t["type"] == kind]


def the_engine(server):
    (player,) = server.players.values()
    return player.engine


# --- messages -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, reason", [
    ("nope", "not JSON"), ("[1]", "not a JSON object"), ('{"type": "fly", "seq": 1, "t": 0}', "unknown message type"),
    ('{"type": "input", "seq": 0, "t": 0}', "seq must be"),
    ('{"type": "input", "seq": 1, "t": 0, "keys": "w"}', "keys"),
    ('{"type": "input", "seq": 1, "t": 0, "keys": [26], "x": 1}', "unknown field"),
    ('{"type": "input", "seq": 1, "t": 0, "mouse": [1e309, 0]}', "mouse"),
    ('{"type": "drag", "seq": 1, "t": 0, "action": "press", "x": 2, "y": 0}', "x must be"),
    ('{"type": "input", "seq": 1, "t": 0, "pad": {"left": [0, 0], "right": [0, 0], "lt": 0, "rt": 0, "sprint": 1}}',
     "sprint"),
    ("x" * 5000, "bytes"),
])
def test_off_protocol_messages_are_named(text, reason):
    with pytest.raises(ProtocolError, match=reason):
        parse(text, 0)


def test_keys_move_the_camera_and_frames_say_which_input_they_applied():
    async def play(client, server):
        page = Page(await client.ws_connect("/ws"))
        await page.pump(lambda p: len(p.frames) >= 3)
        hello = page.of("hello")[0]
        assert hello["backend"] == "warp" and hello["keys"]["KeyW"] == sc.W and hello["fps"] == 16
        z0 = the_engine(server).current.c2w[2, 3]
        w = await page.send("input", keys=[hello["keys"]["KeyW"]])
        await page.pump(lambda p: p.frames[-1][0][1] >= w)  # the first frame that applied W
        held = time.perf_counter()
        await page.pump(lambda p: time.perf_counter() - held > 1.0)
        await page.send("input", keys=[])
        await page.pump(lambda p: any(t["type"] == "status" and t["stats"]["server_latency_ms"] for t in p.texts[-3:]))
        e = the_engine(server)
        await page.ws.close()
        return page, e.current.c2w[2, 3] - z0

    page, walked = run(play)
    assert walked > 0.5  # W held over a second at 1 unit/s
    images = [np.asarray(Image.open(io.BytesIO(jpeg))) for _, jpeg in page.frames[-2:]]
    assert images[0].shape[:2] == (72, 96) and np.abs(images[0].astype(int) - images[1]).mean() > 0.5  # it moves
    assert [h[0] for h, _ in page.frames] == sorted(h[0] for h, _ in page.frames)  # never out of order
    status = page.of("status")[-1]
    assert status["phase"] == "playing" and any("latency" in line for line in status["hud"])


def test_a_drag_grabs_the_object_under_the_cursor():
    async def play(client, server):
        page = Page(await client.ws_connect("/ws"))
        await page.pump(lambda p: len(p.frames) >= 3)
        e = the_engine(server)
        f = e.current
        on_ball = np.flatnonzero((e.world.field.object_ids == 1) & f.chunk.visibility[f.t])
        x, y = (float(v) for v in f.chunk.tracks[f.t][on_ball].mean(0))
        sh, sw = e.world.scene.image.shape[:2]
        await page.send("drag", action="press", x=x / sw, y=y / sh)
        await page.pump(lambda p: e.drags.active is not None)
        grabbed = e.drags.active.object_id
        await page.send("drag", action="move", x=min(x / sw + 0.2, 1.0), y=y / sh)
        await page.send("drag", action="release")
        await page.send("drag", action="pin", x=0.1, y=0.9)
        await page.pump(lambda p: e.current.chunk.extra_kinds.size >= 2)
        kinds = sorted(e.current.chunk.extra_kinds)
        await page.ws.close()
        return grabbed, kinds

    grabbed, kinds = run(play)
    assert grabbed == 1 and kinds == ["drag", "pin"]


# --- guards -------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, code, reason", [
    ("not json", 1008, "not JSON"),
    (json.dumps({"type": "teleport", "seq": 1, "t": 0}), 1008, "unknown message type"),
    ("[" * 5000, 1009, "bytes"),
])
def test_a_bad_message_closes_that_socket_only(bad, code, reason):
    async def play(client, server):
        page = Page(await client.ws_connect("/ws"))
        await page.pump(lambda p: p.of("hello"))
        await page.ws.send_str(bad)
        closing = await page.pump(lambda p: False)
        await asyncio.sleep(0.2)
        sessions_after = len(server.players)
        other = Page(await client.ws_connect("/ws"))  # the freed seat: the server goes on
        await other.pump(lambda p: len(p.frames) >= 1)
        await other.ws.close()
        return page, closing, sessions_after

    page, closing, sessions_after = run(play)
    assert reason in page.of("bye")[-1]["reason"] and page.ws.close_code == code
    assert sessions_after == 0


def test_a_flood_is_cut_off():
    async def play(client, server):
        page = Page(await client.ws_connect("/ws"))
        await page.pump(lambda p: p.of("hello"))
        for _ in range(900):
            page.seq += 1
            await page.ws.send_str(json.dumps({"type": "input", "seq": page.seq, "t": 0}))
        await page.pump(lambda p: False)
        return page

    page = run(play)
    assert "messages a second" in page.of("bye")[-1]["reason"]


def test_one_more_player_sees_busy_and_a_killed_client_frees_its_seat_at_once():
    async def play(client, server):
        first = Page(await client.ws_connect("/ws"))
        await first.pump(lambda p: len(p.frames) >= 1)
        second = Page(await client.ws_connect("/ws"))
        await second.pump(lambda p: False, timeout=10)
        first.ws._response.connection.transport.abort()  # killed, no close handshake
        t0 = time.perf_counter()
        while server.players and time.perf_counter() - t0 < 5:
            await asyncio.sleep(0.02)
        freed = time.perf_counter() - t0
        third = Page(await client.ws_connect("/ws"))
        await third.pump(lambda p: len(p.frames) >= 1)
        await third.ws.close()
        return second, freed

    second, freed = run(play)
    assert "taken" in second.of("busy")[0]["reason"] and second.ws.close_code == 1013
    assert freed < 1.0


def test_token_and_origin():
    async def probe(client, server):
        codes = [(await client.get("/")).status, (await client.get("/?token=wrong-token")).status,
                 (await client.get("/?token=secret-token")).status]
        with pytest.raises(aiohttp.WSServerHandshakeError) as denied:
            await client.ws_connect("/ws")
        codes.append(denied.value.status)
        with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
            await client.ws_connect("/ws?token=secret-token", origin="http://evil.example")
        codes.append(foreign.value.status)
        page = Page(await client.ws_connect("/ws?token=secret-token"))
        await page.pump(lambda p: p.of("hello"))
        await page.ws.close()
        return codes

    assert run(probe, token="secret-token") == [403, 403, 200, 403, 403]
    check_bind("127.0.0.1", None)
    check_bind("::1", None)


def test_serve_refuses_an_open_address_without_a_token(capsys):
    one_error(capsys, "serve", "garden", "--backend", "warp", "--host", "0.0.0.0", match="--token")
    one_error(capsys, "serve", "garden", "--backend", "warp", "--port", "70000", match="--port")
    one_error(capsys, "serve", "garden", "--backend", "warp", "--max-sessions", "0", match="--max-sessions")


# --- pictures, recordings, logs -----------------------------------------------------------------
def _png(w, h) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_dropped_pictures_are_checked_played_and_removed(tmp_path):
    async def play(client, server):
        page = Page(await client.ws_connect("/ws"))
        await page.pump(lambda p: len(p.frames) >= 1)
        folder = next(iter(server.players.values())).folder
        await page.ws.send_bytes(b"#!/bin/sh\nrm -rf /\n")
        await page.pump(lambda p: p.of("say"))
        bomb = io.BytesIO()
        Image.new("L", (8000, 8000)).save(bomb, format="PNG")  # 64 MP: over the 25 MP limit, tiny on the wire
        await page.ws.send_bytes(bomb.getvalue())
        await page.pump(lambda p: len(p.of("say")) >= 2)
        await page.ws.send_bytes(_png(160, 120))
        await page.pump(lambda p: len(p.of("hello")) >= 2 and p.frames[-1][0][0] >= 9)
        kept = sorted(x.name for x in folder.iterdir())
        await page.ws.close()
        await asyncio.sleep(0.3)
        return page, folder, kept

    page, folder, kept = run(play, depth="prior")
    says = [t["text"] for t in page.of("say")]
    assert "not a picture" in says[0] and "picture refused" in says[1] and "MP" in says[1]
    assert page.of("hello")[-1]["scene"].startswith("picture-") and any(k.endswith(".png") for k in kept)
    assert not folder.exists()  # the session's folder went with it


def test_a_recording_is_made_by_the_server_and_downloaded(tmp_path):
    async def play(client, server):
        page = Page(await client.ws_connect("/ws"))
        await page.pump(lambda p: len(p.frames) >= 1)
        await page.send("record")
        n = len(page.frames)
        await page.pump(lambda p: len(p.frames) >= n + 12)
        await page.send("record")
        await page.pump(lambda p: p.of("recording"))
        url = page.of("recording")[0]["url"]
        body = await (await client.get(url)).read()
        await page.ws.close()
        return body

    body = run(play)
    assert body[4:8] == b"ftyp" and len(body) > 1000  # an mp4


def test_a_web_session_replays_bit_for_bit(tmp_path):
    async def play(client, server):
        page = Page(await client.ws_connect("/ws"))
        await page.pump(lambda p: len(p.frames) >= 2)
        await page.send("input", keys=[sc.W, sc.J])
        await page.pump(lambda p: len(p.frames) >= 14)
        await page.send("input", keys=[sc.D], mouse=[30, -5], captured=True)
        await page.send("reset")
        await page.pump(lambda p: len(p.frames) >= 30)
        for _ in range(2):  # two pictures in one second: each log and picture keeps a name of its own
            await page.ws.send_bytes(_png(160, 120))
        await page.pump(lambda p: len(p.of("hello")) >= 3)
        await page.send("input", keys=[sc.S])
        n = len(page.frames)
        await page.pump(lambda p: len(p.frames) >= n + 14)
        await page.ws.close()
        await asyncio.sleep(0.5)

    run(play, log_dir=tmp_path, depth="prior")
    logs = sorted(tmp_path.glob("session-*.jsonl"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert len(logs) == 3 and len(list(tmp_path.glob("picture-*.png"))) == 2
    for log in logs:
        result = replay(log, progress=False)
        assert result.chunks >= 1 and result.mismatches == [], log
    lines = [json.loads(x) for x in logs[0].read_text().splitlines()]
    assert any(line.get("reset") for line in lines) and lines[-1]["end"]


def test_players_that_come_and_go_leave_no_memory_behind():
    """Each player's worker thread had a GL context of its own that outlived it: 38 MB a player."""
    def rss_mb():
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 1e6

    async def cycles(client, server):
        seen = []
        for _ in range(12):
            page = Page(await client.ws_connect("/ws"))
            await page.pump(lambda p: len(p.frames) >= 1)
            await page.ws.close()
            while server.players:
                await asyncio.sleep(0.01)
            seen.append(rss_mb())
        return seen

    seen = run(cycles)
    assert seen[-1] - seen[3] < 60, seen


def test_an_idle_player_is_let_go():
    async def play(client, server):
        page = Page(await client.ws_connect("/ws"))
        await page.pump(lambda p: False, timeout=20)  # it acks every frame, but watching is not playing
        for _ in range(100):
            if not server.players:
                break
            await asyncio.sleep(0.02)
        return page, len(server.players)

    page, left = run(play, idle_s=1.0)
    assert "idle for 1 s" in page.of("bye")[-1]["reason"] and left == 0
