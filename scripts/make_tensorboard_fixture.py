#!/usr/bin/env python3
"""TensorBoard's own bytes for a few known events, for tests/test_tensorboard.cpp.

Run in the comparison environment (scripts/torch_env.sh installs tensorboard):

    .venv-compare/bin/python scripts/make_tensorboard_fixture.py

Each event is built with TensorBoard's generated protobuf classes
(tensorboard.compat.proto), serialized by protobuf, and framed by
TensorBoard's RecordWriter (its own masked CRC-32C); the C++ test encodes the
same events with plot/tensorboard_events.h and compares the TFRecord bytes.
Writes tests/fixtures/tensorboard_events.json: one entry per event, with its
fields as JSON and the record as hex.
"""
import io
import json
import os

import google.protobuf
import tensorboard
from tensorboard.compat.proto import event_pb2, histogram_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tensorboard_events.json")


def record(event):
    buffer = io.BytesIO()
    RecordWriter(buffer).write(event.SerializeToString())
    return buffer.getvalue().hex()


def scalar_event(wall_time, step, values):
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in values])
    return event_pb2.Event(wall_time=wall_time, step=step, summary=summary)


def histogram_event(wall_time, step, tag, h):
    histo = histogram_pb2.HistogramProto(**h)
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=histo)])
    return event_pb2.Event(wall_time=wall_time, step=step, summary=summary)


def main():
    cases = []

    def add(name, event, fields):
        cases.append({"name": name, "fields": fields, "record_hex": record(event)})

    add("file_version", event_pb2.Event(wall_time=1700000000.25, file_version="brain.Event:2"),
        {"wall_time": 1700000000.25, "step": 0, "file_version": "brain.Event:2"})
    # Floats chosen exact in float32, so the JSON carries them without rounding.
    scalars = [["train_loss", 2.3125], ["test_error", 0.0], ["lr", -0.5], ["images_per_s", 12345.5]]
    add("scalars", scalar_event(1700000123.0625, 3, scalars),
        {"wall_time": 1700000123.0625, "step": 3, "scalars": scalars})
    add("scalars_step_0", scalar_event(0.0, 0, [["a", 1.0]]),
        {"wall_time": 0.0, "step": 0, "scalars": [["a", 1.0]]})
    add("large_step", scalar_event(1.5, 300000000000, [["x", 0.125]]),
        {"wall_time": 1.5, "step": 300000000000, "scalars": [["x", 0.125]]})
    h = {"min": -0.75, "max": 1.5, "num": 4.0, "sum": 1.25, "sum_squares": 3.0625,
         "bucket_limit": [-0.5, 0.0, 1.0, 1.7976931348623157e308], "bucket": [1.0, 0.0, 2.0, 1.0]}
    add("histogram", histogram_event(1700000200.5, 12, "weights/layer1.0.conv1.weight", h),
        {"wall_time": 1700000200.5, "step": 12, "histogram_tag": "weights/layer1.0.conv1.weight", "histogram": h})
    h0 = {"min": 0.0, "max": 0.0, "num": 0.0, "sum": 0.0, "sum_squares": 0.0,
          "bucket_limit": [1.7976931348623157e308], "bucket": [0.0]}
    add("empty_histogram", histogram_event(2.0, 1, "gradients/fc.bias", h0),
        {"wall_time": 2.0, "step": 1, "histogram_tag": "gradients/fc.bias", "histogram": h0})
    add("session_start", event_pb2.Event(wall_time=1700000300.0, step=5,
                                         session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)),
        {"wall_time": 1700000300.0, "step": 5, "session_start": True})

    with open(OUT, "w") as f:
        json.dump({"made_by": "scripts/make_tensorboard_fixture.py with tensorboard " + tensorboard.__version__ +
                   " and protobuf " + google.protobuf.__version__, "events": cases}, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
