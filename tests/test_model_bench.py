"""`motionworld bench --model` runs and reports the documented figures (speed itself is not tested)."""
import json

from motionworld.cli import main


def test_bench_json_has_the_documented_keys(capsys):
    assert main(["bench", "--model", "--preset", "tiny", "--chunks", "12", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("fps", "first_frame_latency_s", "chunk_latency_s", "peak_rss_mb", "height", "width", "split_s",
                "compare", "ratio_to_s0w6", "ratio_to_bidirectional"):
        assert key in r
    assert set(r["chunk_latency_s"]) == {"10", "last"}
    assert {"tracks", "step0", "step1", "step2", "clean", "decode"} <= set(r["split_s"])
    assert r["fps"] > 0 and (r["height"], r["width"]) == (64, 64)


def test_bench_text_report_and_bad_options(capsys):
    assert main(["bench", "--model", "--preset", "tiny", "--chunks", "3", "--no-compare", "--window", "grow"]) == 0
    out = capsys.readouterr().out
    assert "throughput:" in out and "first-frame latency" in out and "c3s1wgrow" in out
    assert main(["bench", "--model", "--preset", "tiny", "--size", "65x64"]) == 2
    assert "multiples of 16" in capsys.readouterr().err
    assert main(["bench"]) == 2
    assert main(["bench", "--model", "--preset", "nope"]) == 2
    assert "unknown model preset" in capsys.readouterr().err


def test_a_guided_preset_is_benched_with_its_warp_and_against_the_unguided_one_in_the_same_run(capsys):
    """The guided model's chunk includes rendering the warp (OpenGL, at the output size), encoding it
    and the guided decode; the unguided preset is streamed in the same run for the ratio."""
    assert main(["bench", "--model", "--preset", "tiny-guided", "--chunks", "4", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert list(r["split_s"])[:3] == ["warp_render", "tracks", "warp"]  # in the order a chunk runs them
    assert {"step0", "step1", "step2", "clean", "decode"} <= set(r["split_s"]) and r["split_s"]["warp_render"] > 0
    assert (r["width"], r["height"]) == (128, 128) and (r["model_width"], r["model_height"]) == (64, 64)
    assert r["compare"]["unguided"]["preset"] == "tiny" and r["ratio_to_unguided"] > 0
    assert main(["bench", "--model", "--preset", "tiny-guided", "--chunks", "2"]) == 0
    out = capsys.readouterr().out
    assert "128x128 frames from a 64x64 model that sees the warp" in out and "the unguided tiny preset" in out
