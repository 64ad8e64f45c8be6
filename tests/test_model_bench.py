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
