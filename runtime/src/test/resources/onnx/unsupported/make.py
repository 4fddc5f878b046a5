# Makes model.onnx: a graph with two ops Kiln does not import (Hardmax, LpNormalization) on one path,
# for the CLI test that the unsupported-op error is printed whole. Run: /usr/bin/python3 make.py
import onnx
from onnx import helper, TensorProto

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
nodes = [
    helper.make_node("Relu", ["x"], ["a"], name="relu0"),
    helper.make_node("Hardmax", ["a"], ["b"], name="hardmax0", axis=1),
    helper.make_node("LpNormalization", ["b"], ["y"], name="lpnorm0", axis=1, p=2),
]
model = helper.make_model(helper.make_graph(nodes, "unsupported", [x], [y]), opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, "model.onnx")
