"""Trainer adapters, run against the real Lightning and transformers where installed."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from stabkit.errors import InputError  # noqa: E402
from stabkit.learn import StabilityMonitor  # noqa: E402
from stabkit.learn.callbacks import huggingface_callback, lightning_callback  # noqa: E402


def _data(n=32):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 4, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_adapters_need_a_monitor():
    with pytest.raises(InputError, match="StabilityMonitor"):
        lightning_callback(object())
    with pytest.raises(InputError, match="StabilityMonitor"):
        huggingface_callback(object())


def test_lightning_fit_records_every_step():
    pl = pytest.importorskip("lightning.pytorch")

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 3)

        def training_step(self, batch, idx):
            x, y = batch
            logits = self.net(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            return {"loss": loss, "logits": logits.detach(), "targets": y}

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    x, y = _data()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    module = Module()
    monitor = StabilityMonitor(module)
    trainer = pl.Trainer(
        max_steps=6,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        callbacks=[lightning_callback(monitor)],
    )
    trainer.fit(module, loader)
    frame = monitor.to_frame()
    assert list(frame["step"]) == [1, 2, 3, 4, 5, 6]
    assert frame["loss"].notna().all() and frame["grad_norm"].gt(0).all()
    assert frame["update_norm"].iloc[1:].gt(0).all()
    assert "softmax_collapse" in frame and isinstance(monitor.optimizer, torch.optim.SGD)


def test_huggingface_trainer_records_steps_and_losses(tmp_path):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 3)

        def forward(self, x, labels=None):
            logits = self.lin(x)
            out = {"logits": logits}
            if labels is not None:
                out["loss"] = torch.nn.functional.cross_entropy(logits, labels)
            return out

    x, y = _data()

    class DS(torch.utils.data.Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return {"x": x[i], "labels": y[i]}

    model = Net()
    monitor = StabilityMonitor(model)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=4,
        per_device_train_batch_size=8,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=DS(), callbacks=[huggingface_callback(monitor)]
    )
    trainer.train()
    frame = monitor.to_frame()
    assert list(frame["step"]) == [1, 2, 3, 4]
    assert frame["grad_norm"].gt(0).all()
    assert frame["loss"].notna().all() and all(math.isfinite(v) for v in frame["loss"])
