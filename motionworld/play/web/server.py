"""`motionworld serve`: the play engine behind a web page, so the model runs on one machine and a
person plays from a browser on another. docs/serve.md has the protocol.

Each WebSocket is one player: an `Engine` (Session, Player worker thread, latch, drag tool, clock,
recording, input log) of its own, and two asyncio tasks, one reading the page's messages and one
sending the frames the engine says are due, at most two in flight. JPEG encoding, loading the model
and reading a dropped picture run in threads, so one player's work never stalls another's socket.
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from aiohttp import WSMsgType, web

from controllers.keys import BROWSER_CODES

from ...errors import MotionWorldError, SceneError, Terminated
from ...scene import load_scene
from ...world import World
from ..commands import live_session, make_engine
from ..engine import LOADING, Engine
from ..keymap import CONTROLS
from ..player import end_status
from . import protocol as P

log = logging.getLogger("motionworld.serve")
STATIC = Path(__file__).parent / "static"
PICTURE_KINDS = {b"\x89PNG": ".png", b"\xff\xd8\xff": ".jpg", b"GIF8": ".gif", b"BM": ".bmp", b"II*\x00": ".tif",
                 b"MM\x00*": ".tif"}
TICK_S = 1 / 120  # how often a player's sender looks for a due frame
STATUS_S = 0.2
JPEG_QUALITY = 85


@dataclass
class ServeOptions:
    scene: Path
    backend: str = "auto"
    weights: Path | None = None
    size: int = 384
    seed: int | None = None
    depth: str | None = None
    max_sessions: int = 1
    token: str | None = None
    log_dir: Path | None = None
    idle_s: float = 300.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    if not is_loopback(host) and not token:
        raise MotionWorldError(f"--host {host} lets other machines in: give --token T (the page's address carries it)")


def picture_suffix(data: bytes) -> str | None:
    for magic, suffix in PICTURE_KINDS.items():
        if data.startswith(magic):
            return suffix
    return ".webp" if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else None


def encode_jpeg(image) -> bytes:
    from PIL import Image

    buf = BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


@dataclass
class WebPlayer:
    """One connected page."""

    id: str
    ws: web.WebSocketResponse
    folder: Path  # temporary: uploads and recordings; removed when the player leaves
    engine: Engine | None = None
    last_seq: int = 0
    in_flight: int = 0
    sent: int = 0
    dropped: int = 0
    last_message: float = field(default_factory=time.monotonic)
    limit: P.RateLimit = field(default_factory=P.RateLimit)
    recordings: dict = field(default_factory=dict)  # name -> path
    made: int = 0  # logs and pictures this player has named (each name is new)

    def new_name(self, prefix: str, suffix: str) -> str:
        self.made += 1
        return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}-{self.id}-{self.made}{suffix}"


class Server:
    def __init__(self, options: ServeOptions, say=print):
        self.options, self.say = options, say
        self.players: dict[str, WebPlayer] = {}
        self.base_world = World(load_scene(options.scene, depth=options.depth))  # a broken scene fails at start
        self.closing = False

    # ----- sessions
    def _engine(self, player: WebPlayer, world: World) -> Engine:
        """A player's engine (loads the model: run in a thread)."""
        log_path = None
        if self.options.log_dir is not None:
            log_path = self.options.log_dir / player.new_name("session", ".jsonl")
        o = self.options
        session = live_session(world, o.backend, o.weights, o.size, o.seed, self.say)
        return make_engine(session, log_path, out_dir=player.folder).start()

    def _picture_world(self, player: WebPlayer, data: bytes) -> World:
        """A dropped picture as a world, through the same checks as any picture. It is kept beside
        the session's log when there is one (so `replay` finds it), else in the player's folder."""
        suffix = picture_suffix(data)
        if suffix is None:
            raise MotionWorldError("not a picture (PNG, JPEG, GIF, BMP, TIFF or WebP)")
        where = self.options.log_dir or player.folder
        path = where / player.new_name("picture", suffix)
        path.write_bytes(data)
        try:
            return World(load_scene(path, depth=self.options.depth))
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def hello(self, player: WebPlayer) -> dict:
        e = player.engine
        size = None if e.current is None else [int(e.current.image.shape[1]), int(e.current.image.shape[0])]
        return {"type": "hello", "session": player.id, "backend": e.session.generator.name,
                "depth": e.world.scene.depth_label, "weights": e.weights_label, "steps": e.cache_label,
                "fps": e.world.fps, "size": size, "scene": e.world.scene.name, "keys": BROWSER_CODES,
                "controls": [list(c) for c in CONTROLS],
                "limits": {"text_bytes": P.MAX_TEXT_BYTES, "picture_bytes": P.MAX_PICTURE_BYTES, "rate": P.MAX_RATE,
                           "frames_in_flight": 2}}

    # ----- HTTP
    @web.middleware
    async def guard(self, request: web.Request, handler):
        token = self.options.token
        if token and not hmac.compare_digest(request.query.get("token", ""), token):
            raise web.HTTPForbidden(text="a token is needed: open the address `motionworld serve` printed")
        return await handler(request)

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def recording(self, request: web.Request) -> web.StreamResponse:
        player = self.players.get(request.match_info["session"])
        path = None if player is None else player.recordings.get(request.match_info["name"])
        if path is None or not path.is_file():
            raise web.HTTPNotFound(text="no such recording (they go when their session ends)")
        return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{path.name}"'})

    def origin_ok(self, request: web.Request) -> bool:
        """The page's own address, or no Origin (not a browser: a browser always sends one)."""
        origin = request.headers.get("Origin")
        return origin is None or origin in (f"http://{request.host}", f"https://{request.host}")

    # ----- one player
    async def socket(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_ok(request):
            raise web.HTTPForbidden(text="this page's origin may not drive a player here")
        ws = web.WebSocketResponse(max_msg_size=P.MAX_PICTURE_BYTES + 1024, heartbeat=10.0)
        await ws.prepare(request)
        if self.closing or len(self.players) >= self.options.max_sessions:
            await ws.send_json({"type": "busy", "reason": f"all {self.options.max_sessions} session(s) are taken; "
                                                          "try again when a player leaves"})
            await ws.close(code=1013, message=b"busy")
            return ws
        player = WebPlayer(secrets.token_hex(6), ws, Path(tempfile.mkdtemp(prefix="motionworld-web-")))
        self.players[player.id] = player
        self.say(f"player {player.id} joined ({len(self.players)} of {self.options.max_sessions})")
        status = "complete"
        try:
            await ws.send_json({"type": "status", "phase": LOADING, "hud": [LOADING + " ..."], "stats": {}})
            loop = asyncio.get_running_loop()
            player.engine = await loop.run_in_executor(None, self._engine, player, self.base_world)
            await ws.send_json(self.hello(player))
            sender = asyncio.create_task(self._send_frames(player))
            try:
                await self._read(player)
            finally:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
        except P.ProtocolError as e:
            await self._bye(player, e.reason, e.code)
        except (MotionWorldError, OSError) as e:
            status = end_status(e)
            await self._bye(player, f"error: {e}", 1011)
        except asyncio.CancelledError:
            status = "terminated"
            raise
        finally:
            await self._leave(player, status)
        return ws

    async def _bye(self, player: WebPlayer, reason: str, code: int) -> None:
        if not player.ws.closed:
            try:
                await player.ws.send_json({"type": "bye", "reason": reason})
                await player.ws.close(code=code, message=reason[:120].encode())
            except (ConnectionError, RuntimeError):
                pass

    async def _leave(self, player: WebPlayer, status: str) -> None:
        self.players.pop(player.id, None)
        if player.engine is not None:
            await asyncio.get_running_loop().run_in_executor(None, player.engine.close, status)
        shutil.rmtree(player.folder, ignore_errors=True)
        self.say(f"player {player.id} left ({player.sent} frames sent, {player.dropped} dropped)")

    async def _read(self, player: WebPlayer) -> None:
        async for msg in player.ws:
            now = time.monotonic()
            if not player.limit.allow(now):
                raise P.ProtocolError(f"more than {P.MAX_RATE:g} messages a second")
            if msg.type == WSMsgType.TEXT:
                m = P.parse(msg.data, player.last_seq)
                player.last_seq = m.seq
                if m.type != "ack":  # watching is not playing: a page left open does not hold a seat for ever
                    player.last_message = now
                await self._apply(player, m)
            elif msg.type == WSMsgType.BINARY:
                player.last_message = now
                await self._upload(player, msg.data)
            elif msg.type == WSMsgType.ERROR:
                raise P.ProtocolError(f"socket error: {player.ws.exception()}", P.CLOSE_TOO_BIG)

    async def _apply(self, player: WebPlayer, m: P.Message) -> None:
        e = player.engine
        if m.type == "input":
            e.feed(m.state, seq=m.seq)
        elif m.type == "ack":
            player.in_flight = max(0, player.in_flight - 1)
        elif m.type == "drag":
            self._drag(e, m)
        elif m.type == "pause":
            e.toggle_pause()
        elif m.type == "reset":
            e.restart()
        elif m.type == "record":
            await self._record(player)

    def _drag(self, e: Engine, m: P.Message) -> None:
        if m.action == "release":
            e.release()
        elif m.action == "clear":
            e.clear_pins()
        else:
            xy = e.scene_xy(*m.xy)
            {"press": e.press, "move": e.move, "pin": e.pin}[m.action](xy)

    async def _record(self, player: WebPlayer) -> None:
        try:
            path = await asyncio.get_running_loop().run_in_executor(None, player.engine.toggle_recording)
        except (OSError, MotionWorldError) as err:
            player.engine.say(f"recording failed: {err}", seconds=8.0)
            return
        if path is not None:
            player.recordings[path.name] = path
            await player.ws.send_json({"type": "recording", "url": f"/recordings/{player.id}/{path.name}",
                                       "frames": player.engine.shown})

    async def _upload(self, player: WebPlayer, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            world = await loop.run_in_executor(None, self._picture_world, player, data)
        except SceneError as err:
            await player.ws.send_json({"type": "say", "text": f"picture refused: {err.problems[0]}"})
            return
        except (MotionWorldError, OSError) as err:
            await player.ws.send_json({"type": "say", "text": f"picture refused: {err}"})
            return
        old = player.engine
        await player.ws.send_json({"type": "status", "phase": LOADING, "hud": [LOADING + " ..."], "stats": {}})
        await loop.run_in_executor(None, old.close, "complete")
        player.engine = await loop.run_in_executor(None, self._engine, player, world)
        player.in_flight = 0
        await player.ws.send_json(self.hello(player))

    async def _send_frames(self, player: WebPlayer) -> None:
        loop = asyncio.get_running_loop()
        next_status = 0.0
        while not player.ws.closed:
            e = player.engine
            now = time.perf_counter()
            try:
                frame = e.due_frame(now)
            except Exception as err:  # the generator failed: this player ends, the server goes on
                await self._bye(player, f"error: {err}", 1011)
                return
            if frame is not None:
                if player.in_flight >= 2:
                    player.dropped += 1  # stale by the time it could go: dropped, never queued
                else:
                    jpeg = await loop.run_in_executor(None, encode_jpeg, frame.image)
                    player.in_flight += 1
                    player.sent += 1
                    await player.ws.send_bytes(P.frame_message(jpeg, frame.index, frame.input_seq, frame.restart,
                                                               frame.t))
            if now >= next_status:
                next_status = now + STATUS_S
                await player.ws.send_json(self.status(player, now))
                if time.monotonic() - player.last_message > self.options.idle_s:
                    await self._bye(player, f"idle for {self.options.idle_s:g} s", 1000)
                    return
            await asyncio.sleep(TICK_S)

    def status(self, player: WebPlayer, now: float) -> dict:
        e = player.engine
        stats = {"generated_fps": e.player.generation_fps(), "shown_fps": e.shown_fps(now), "video_fps": e.world.fps,
                 "server_latency_ms": e.latency_ms(), "sent": player.sent, "dropped": player.dropped,
                 "frame": None if e.current is None else e.current.index}
        return {"type": "status", "phase": e.phase, "hud": e.hud(now), "stats": stats}

    # ----- the app
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard], client_max_size=1024)
        app.router.add_get("/", self.page)
        app.router.add_get("/ws", self.socket)
        app.router.add_get("/recordings/{session}/{name}", self.recording)
        app.router.add_static("/static", STATIC)
        app.on_shutdown.append(self._shutdown)
        return app

    async def _shutdown(self, app) -> None:
        self.closing = True
        for player in list(self.players.values()):
            await self._bye(player, "the server is stopping", 1001)


def address(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


async def _serve(server: Server, host: str, port: int, ready=None) -> str:
    """Serve until SIGINT (returns "interrupted") or SIGTERM ("terminated")."""
    runner = web.AppRunner(server.app(), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        raise MotionWorldError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    bound = runner.addresses[0][1] if port == 0 and runner.addresses else port
    stop, why = asyncio.Event(), {}
    loop = asyncio.get_running_loop()
    for sig, name in ((signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")):
        loop.add_signal_handler(sig, lambda n=name: (why.setdefault("how", n), stop.set()))
    server.say(f"serving {server.base_world.scene.name}: "
               f"open {address(host, bound, server.options.token)}  (Ctrl-C stops)")
    if ready is not None:
        ready(bound)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # closes every socket (each player says bye) and ends their engines
    return why.get("how", "interrupted")


def serve(options: ServeOptions, host: str = "127.0.0.1", port: int = 8765, say=print) -> None:
    check_bind(host, options.token)
    if options.log_dir is not None:
        options.log_dir.mkdir(parents=True, exist_ok=True)
    server = Server(options, say=say)
    how = asyncio.run(_serve(server, host, port))
    say(f"stopped ({how})")
    if how == "terminated":
        raise Terminated(signal.SIGTERM)
