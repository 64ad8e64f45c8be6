import logging

import numpy as np
import pytest

from controllers import (
    ActionController,
    CombinedController,
    GamepadController,
    GamepadState,
    InputState,
    KeyboardController,
    MouseController,
    ScriptedController,
)
from controllers import keys as sc
from controllers.gamepad import radial_deadzone
from motionworld import plugins
from motionworld.geometry import paths
from motionworld.geometry.actions import actions_to_c2w
from motionworld.geometry.camera import ypr_from_rotation
from motionworld.geometry.rig import CameraRig


def _run(rig, controller, state, seconds, dt):
    for _ in range(int(round(seconds / dt))):
        rig.update(controller.update(state, dt), dt)
    return rig.c2w


def test_keyboard_w_walks_forward_on_the_ground_even_when_looking_down():
    rig = CameraRig(move_speed=1.0, damping_s=0.0)
    rig.pitch = -30.0
    c2w = _run(rig, KeyboardController(), InputState(keys=frozenset({sc.W})), 2.0, 1 / 16)
    np.testing.assert_allclose(c2w[:3, 3], [0, 0, 2.0], atol=1e-9)
    rig = CameraRig(move_speed=1.0, damping_s=0.0)
    c2w = _run(rig, KeyboardController(), InputState(keys=frozenset({sc.D, sc.E, sc.LSHIFT})), 1.0, 1 / 16)
    np.testing.assert_allclose(c2w[:3, 3], [2.5, -2.5, 0], atol=1e-9)  # right and up (-y), sprinting


def test_keyboard_turns_and_pitch_is_clamped():
    rig = CameraRig(turn_speed_deg=90.0, damping_s=0.0, pitch_limit_deg=80.0)
    _run(rig, KeyboardController(), InputState(keys=frozenset({sc.L})), 1.0, 1 / 16)
    assert rig.yaw == pytest.approx(90.0)
    _run(rig, KeyboardController(), InputState(keys=frozenset({sc.UP})), 3.0, 1 / 16)
    assert rig.pitch == pytest.approx(80.0)
    assert ypr_from_rotation(rig.c2w[:3, :3])[1] == pytest.approx(80.0)


def test_keys_are_scancodes_matching_pygame():
    pygame = pytest.importorskip("pygame")
    for name in ["W", "A", "S", "D", "Q", "E", "I", "J", "K", "L", "UP", "DOWN", "LEFT", "RIGHT", "LSHIFT", "RSHIFT"]:
        assert getattr(sc, name) == getattr(pygame, f"KSCAN_{name}")


def test_rig_is_frame_rate_independent():
    state = InputState(keys=frozenset({sc.W, sc.D}))
    ends = []
    for dt in (1 / 16, 1 / 60, 1 / 240):
        rig = CameraRig(move_speed=1.5, damping_s=0.2)
        ends.append(_run(rig, KeyboardController(), state, 1.5, dt)[:3, 3])
        # let go: the rig glides to a stop the same way
        ends[-1] = _run(rig, KeyboardController(), InputState(), 1.0, dt)[:3, 3]
    np.testing.assert_allclose(ends[1], ends[0], atol=1e-9)
    np.testing.assert_allclose(ends[2], ends[0], atol=1e-9)


def test_damping_eases_in():
    rig = CameraRig(move_speed=1.0, damping_s=0.5)
    _run(rig, KeyboardController(), InputState(keys=frozenset({sc.W})), 0.25, 1 / 16)
    assert 0 < rig.position[2] < 0.25 * 0.5  # well below full speed so soon


def test_mouse_look_and_drag():
    m = MouseController(sensitivity_deg=0.1)
    cmd = m.update(InputState(mouse_rel=(100, 50), mouse_captured=True), 1 / 60)
    np.testing.assert_allclose(cmd.look_deg, [10.0, -5.0])  # right and down
    cmd = m.update(InputState(mouse_rel=(100, 50), mouse_buttons=frozenset({2})), 1 / 60)
    np.testing.assert_allclose(cmd.look_deg, [-10.0, 5.0])  # grabbing the picture
    assert not m.update(InputState(mouse_rel=(100, 50)), 1 / 60).look_deg.any()
    inverted = MouseController(0.1, invert_y=True).update(InputState(mouse_rel=(0, 10), mouse_captured=True), 1)
    assert inverted.look_deg[1] == pytest.approx(1.0)


def test_radial_deadzone():
    assert not radial_deadzone(0.1, 0.1, 0.2).any()
    v = radial_deadzone(0.6, 0.0, 0.2)
    np.testing.assert_allclose(v, [0.5, 0.0])
    np.testing.assert_allclose(np.linalg.norm(radial_deadzone(0.7071, 0.7071, 0.2)), 1.0, atol=1e-3)
    assert not radial_deadzone(np.nan, 0.5, 0.2).any()


def test_gamepad_mapping_and_disconnected_pad():
    g = GamepadController(deadzone=0.1, look_deg_per_s=100.0)
    pad = GamepadState(True, left=(0.0, -1.0), right=(1.0, 0.0), left_trigger=0.0, right_trigger=1.0)
    cmd = g.update(InputState(gamepad=pad), 0.5)
    np.testing.assert_allclose(cmd.move, [0.0, 1.0, 1.0])  # stick up = forward, right trigger = up
    np.testing.assert_allclose(cmd.look_deg, [50.0, 0.0])
    idle = g.update(InputState(gamepad=GamepadState(False, left=(1, 1))), 0.5)
    assert not idle.move.any() and not idle.look_deg.any()


def test_combined_controller_adds_and_clamps():
    c = CombinedController([KeyboardController(), GamepadController()])
    state = InputState(keys=frozenset({sc.W}), gamepad=GamepadState(True, left=(0.0, -1.0)))
    assert c.update(state, 0.1).move[2] == 1.0


def test_scripted_controller_reproduces_the_path():
    path = paths.dolly(1.0, 1.0) + paths.pan(45.0, 1.0)
    rig = CameraRig()
    ctl = ScriptedController(path)
    poses = [rig.update(ctl.update(InputState(), 1 / 16), 1 / 16) for _ in range(32)]
    np.testing.assert_allclose(poses[-1], path.end_pose, atol=1e-9)
    assert ctl.finished


def test_action_controller_matches_action_poses():
    rig = CameraRig()
    ctl = ActionController("w-8,lw-8")
    poses = [rig.update(ctl.update(InputState(), 1 / 16), 1 / 16) for _ in range(16)]
    np.testing.assert_allclose(np.stack(poses), actions_to_c2w("w-8,lw-8")[1:], atol=1e-9)


def test_controllers_are_found_by_name():
    assert {"keyboard", "mouse", "gamepad", "scripted", "actions"} <= set(plugins.names(plugins.CONTROLLERS))
    assert plugins.load(plugins.CONTROLLERS, "keyboard") is KeyboardController
    with pytest.raises(Exception, match="available: keyboard, mouse, gamepad, scripted, actions"):
        plugins.load(plugins.CONTROLLERS, "joystick")


# --- pygame as the source of input states (SDL dummy video driver, no window) -------------------
@pytest.fixture
def pygame_dummy():
    pygame = pytest.importorskip("pygame")
    pygame.display.init()
    pygame.joystick.init()
    yield pygame
    pygame.quit()


def test_pygame_events_become_input_states(pygame_dummy):
    pygame = pygame_dummy
    from controllers.pygame_input import PygameInput

    inp = PygameInput()
    for ev in [pygame.event.Event(pygame.KEYDOWN, scancode=sc.W, key=pygame.K_w, mod=0, unicode="w"),
               pygame.event.Event(pygame.KEYDOWN, scancode=sc.LSHIFT, key=pygame.K_LSHIFT, mod=0, unicode=""),
               pygame.event.Event(pygame.MOUSEMOTION, rel=(5, -3), pos=(0, 0), buttons=(0, 0, 0)),
               pygame.event.Event(pygame.MOUSEMOTION, rel=(1, 1), pos=(0, 0), buttons=(0, 0, 0))]:
        pygame.event.post(ev)
    for ev in pygame.event.get():
        inp.handle(ev)
    state = inp.poll()
    assert state.keys == frozenset({sc.W, sc.LSHIFT})
    assert state.mouse_rel == (6, -2)
    assert inp.poll().mouse_rel == (0.0, 0.0)  # motion is consumed
    inp.handle(pygame.event.Event(pygame.KEYUP, scancode=sc.W, key=pygame.K_w, mod=0, unicode="w"))
    inp.handle(pygame.event.Event(pygame.WINDOWFOCUSLOST))
    assert inp.poll().keys == frozenset()
    # A tap between two polls (down and up before the display loop looks) is still seen once.
    inp.handle(pygame.event.Event(pygame.KEYDOWN, scancode=sc.D, key=pygame.K_d, mod=0, unicode="d"))
    inp.handle(pygame.event.Event(pygame.KEYUP, scancode=sc.D, key=pygame.K_d, mod=0, unicode="d"))
    assert inp.poll().keys == frozenset({sc.D}) and inp.poll().keys == frozenset()


def test_gamepad_hot_plug_never_crashes(pygame_dummy, caplog):
    pygame = pygame_dummy
    from controllers.pygame_input import PygameInput

    inp = PygameInput()
    caplog.set_level(logging.INFO, logger="motionworld.input")
    inp.handle(pygame.event.Event(pygame.JOYDEVICEADDED, device_index=7))  # no such device
    inp.handle(pygame.event.Event(pygame.JOYDEVICEREMOVED, instance_id=3))  # unknown pad unplugged

    class Unplugged:
        name = "test pad"

        def read(self, pygame):
            raise pygame.error("Joystick not initialized")

    inp.pads[3] = Unplugged()
    state = inp.poll()
    assert not state.gamepad.connected and not inp.pads
    text = caplog.text
    assert "could not be opened" in text and "disconnected" in text and "stopped answering" in text


def test_looping_script_shows_its_end_pose_and_scripts_are_not_clamped():
    path = paths.tilt(89.0, 1.0)
    rig = CameraRig(pitch_limit_deg=85.0)
    ctl = ScriptedController(path, loop=True)
    poses = [rig.update(ctl.update(InputState(), 1 / 16), 1 / 16) for _ in range(17)]
    np.testing.assert_allclose(poses[15], path.end_pose, atol=1e-9)  # t = 1.0 exactly: the end, not the start
    assert ypr_from_rotation(poses[15][:3, :3])[1] == pytest.approx(89.0)
    np.testing.assert_allclose(poses[16], path.pose(1 / 16), atol=1e-9)


def test_gamepad_sprint():
    cmd = GamepadController().update(InputState(gamepad=GamepadState(True, left=(0, -1), sprint=True)), 0.1)
    assert cmd.sprint
