import json

import pytest
import torch

from experiments.make_synthetic_wholebody import main as make_main
from experiments.train_wholebody import main as train_main
from wholebody.checkpoint import load_model


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_train_cli_writes_run_and_resumes(tmp_path):
    data = tmp_path / "synth"
    assert make_main(["--out", str(data), "--num-images", "2", "--size", "96", "96"]) == 0
    argv = [
        "--data",
        str(data),
        "--preset",
        "rtmpose-tiny-test",
        "--epochs",
        "1",
        "--batch-size",
        "2",
        "--warmup-steps",
        "1",
        "--run-name",
        "t",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--val-data",
        str(data),
        "--no-augment",
    ]
    assert train_main(argv) == 0
    run = tmp_path / "runs" / "t"
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["name"] == "rtmpose-tiny-test" and config["train"]["epochs"] == 1
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["epoch_end"] == 1 and "wholebody/AP" in lines[-1]["eval"]
    model = load_model(run / "checkpoints" / "final")
    best = json.loads((run / "checkpoints" / "best" / "trainer_state.json").read_text())
    assert best["best_epoch"] == 1 and best["best"] == lines[-1]["eval"]["wholebody/AP"]
    assert model.config.name == "rtmpose-tiny-test"
    # resume with more epochs continues from step 1
    assert train_main([*argv[:5], "2", *argv[6:], "--resume"]) == 0
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch_end"] for x in lines if "epoch_end" in x] == [1, 2]
    with pytest.raises(ValueError, match="annotation file not found"):
        train_main(["--data", str(tmp_path / "nothing.json")])
