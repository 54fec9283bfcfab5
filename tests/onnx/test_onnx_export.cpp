// ONNX export (apps/onnx_export.h): the built-in models' exports pass
// onnx::checker read back from disk, every op that record()s is a row of the
// mapping table, user modules made of exported ops export, and what cannot
// export is refused naming the op and the module. The runtimes' agreement
// with Fluxion is scripts/check_onnx.py (tests/onnx/run_check.sh).
#include <doctest/doctest.h>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "apps/onnx_export.h"
#include "autograd/ops.h"
#include "core/factory.h"
#include "core/random.h"
#include "layers/activation.h"
#include "layers/container.h"
#include "layers/forward_trace.h"
#include "layers/linear.h"
#include "layers/models/registry.h"
#include "../helpers.h"

using namespace fluxion;
using test::TempDir;

namespace {

onnx::ModelProto read_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  onnx::ModelProto model;
  REQUIRE(model.ParseFromIstream(&in));
  return model;
}

std::string export_error(nn::Module& model, const Tensor& example, const std::string& path) {
  try {
    apps::export_onnx(model, example, path, {});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::set<std::string> op_types(const onnx::ModelProto& model) {
  std::set<std::string> types;
  for (const auto& n : model.graph().node()) types.insert(n.op_type());
  return types;
}

}  // namespace

TEST_CASE("export: the built-in models pass onnx::checker, read back from disk, with a fixed and a dynamic batch") {
  TempDir dir;
  for (const std::string name : {"small_cnn", "resnet20", "resnet18", "densenet121"}) {
    CAPTURE(name);
    manual_seed(7);
    nn::ModelOptions options;
    options.in_channels = name == "small_cnn" ? 1 : 3;
    options.image_size = name == "small_cnn" ? 28 : 32;
    nn::ModulePtr model = nn::make_model(name, options);
    for (const bool dynamic : {false, true}) {
      CAPTURE(dynamic);
      const std::string path = dir.file(name + (dynamic ? "_dynamic" : "") + ".onnx");
      apps::OnnxExportOptions export_options;
      export_options.graph_name = name;
      export_options.dynamic_batch = dynamic;
      const Tensor example = randn({dynamic ? 2 : 1, options.in_channels, options.image_size, options.image_size});
      const apps::OnnxExportSummary summary = apps::export_onnx(*model, example, path, export_options);
      CHECK_FALSE(model->is_training());  // traced, and left, in eval mode
      CHECK_NOTHROW(onnx::checker::check_model(path));
      const onnx::ModelProto proto = read_model(path);
      REQUIRE(proto.opset_import_size() == 1);
      CHECK(proto.opset_import(0).version() >= 13);
      REQUIRE(proto.graph().input_size() == 1);
      REQUIRE(proto.graph().output_size() == 1);
      CHECK(proto.graph().input(0).name() == "input");
      CHECK(proto.graph().output(0).name() == "output");
      const auto& in_dims = proto.graph().input(0).type().tensor_type().shape().dim();
      const auto& out_dims = proto.graph().output(0).type().tensor_type().shape().dim();
      REQUIRE(in_dims.size() == 4);
      REQUIRE(out_dims.size() == 2);
      CHECK(out_dims[1].dim_value() == 10);
      if (dynamic) {
        CHECK(in_dims[0].dim_param() == "batch");
        CHECK(out_dims[0].dim_param() == "batch");
      } else {
        CHECK(in_dims[0].dim_value() == 1);
      }
      CHECK(summary.nodes == static_cast<std::size_t>(proto.graph().node_size()));
      // Convolution weights are initializers under their state_dict names
      // (batchnorm's are folded into a per-channel scale and shift, a
      // Linear's weight into its transpose).
      std::set<std::string> initializers;
      for (const auto& t : proto.graph().initializer()) initializers.insert(t.name());
      for (const auto& [key, p] : model->named_parameters())
        if (p.dim() == 4) CHECK_MESSAGE(initializers.contains(key), key);
      const std::set<std::string> types = op_types(proto);
      CHECK(types.contains("Conv"));
      // Each batchnorm (x * scale + shift in eval mode) is one BatchNormalization.
      std::size_t batchnorms = 0, nodes = 0;
      for (const auto& [key, t] : model->state_dict()) batchnorms += key.ends_with("running_mean") ? 1 : 0;
      for (const auto& n : proto.graph().node()) nodes += n.op_type() == "BatchNormalization" ? 1 : 0;
      CHECK(nodes == batchnorms);
    }
  }
}

TEST_CASE("export: every op that record()s is in the ONNX table, mapped or listed as not exportable") {
  // The recorded names, read from the sources as the gradcheck coverage test
  // reads autograd/ops.h: record(out, "name", ...) and reshape_view(..., "name").
  const std::filesystem::path ops_dir = std::filesystem::path(FLUXION_SOURCE_DIR) / "autograd" / "ops";
  const std::regex recorded(R"((?:record\([^,]+,\s*|reshape_view\([^;]*,\s*)\"([a-z_0-9]+)\")");
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(ops_dir)) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    for (std::sregex_iterator it(source.begin(), source.end(), recorded), end; it != end; ++it)
      names.insert((*it)[1]);
  }
  REQUIRE(names.size() > 25);
  CHECK(names.contains("conv2d"));
  CHECK(names.contains("view"));
  std::set<std::string> table;
  for (const auto& op : apps::onnx_exportable_ops()) table.insert(op);
  for (const auto& [op, why] : apps::onnx_not_exportable_ops()) {
    CHECK_MESSAGE(!why.empty(), op);
    table.insert(op);
  }
  for (const auto& name : names)
    CHECK_MESSAGE(table.contains(name), "op '" << name
                                                << "' is recorded but has no row in onnx_op_table "
                                                   "(apps/onnx_export.cpp): map it or say why not");
  for (const auto& row : table) CHECK_MESSAGE(names.contains(row), "onnx_op_table has a row for unknown op " << row);
}

namespace {

// A user's module made of exported ops: an MLP with a softmax.
class Mlp : public nn::Module {
 public:
  Mlp() {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(nn::LinearOptions(12, 8)));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(nn::LinearOptions(8, 3)));
  }
  Tensor forward(const Tensor& x) override {
    nn::ForwardScope scope(*this, x);
    Tensor h = tanh(fc1->forward(x.flatten(1)));  // [N, 8]
    return scope.output(softmax(fc2->forward(h) * 2.0, 1));
  }
  std::string type_name() const override { return "Mlp"; }
  std::shared_ptr<nn::Linear> fc1, fc2;
};

// Reads the input through a path the recording does not see.
class Detaching : public nn::Module {
 public:
  Detaching() { fc = register_module("fc", std::make_shared<nn::Linear>(nn::LinearOptions(4, 2))); }
  Tensor forward(const Tensor& x) override {
    nn::ForwardScope scope(*this, x);
    Tensor flat = x.flatten(1);
    return scope.output(fc->forward(flat + flat.detach()));
  }
  std::string type_name() const override { return "Detaching"; }
  std::shared_ptr<nn::Linear> fc;
};

// Uses gather, whose index the recording cannot see.
class Gathering : public nn::Module {
 public:
  Gathering() { fc = register_module("fc", std::make_shared<nn::Linear>(nn::LinearOptions(4, 2))); }
  Tensor forward(const Tensor& x) override {
    nn::ForwardScope scope(*this, x);
    const Tensor index = zeros({x.size(0), 1}, kInt64);
    return scope.output(gather(fc->forward(x.flatten(1)), 1, index));
  }
  std::string type_name() const override { return "Gathering"; }
  std::shared_ptr<nn::Linear> fc;
};

}  // namespace

TEST_CASE("export: a user module built from exported ops exports and passes the checker") {
  TempDir dir;
  Mlp model;
  const std::string path = dir.file("mlp.onnx");
  apps::export_onnx(model, randn({2, 3, 2, 2}), path, {});
  CHECK_NOTHROW(onnx::checker::check_model(path));
  const std::set<std::string> types = op_types(read_model(path));
  for (const char* type : {"Reshape", "MatMul", "Add", "Tanh", "Mul", "Softmax"}) CHECK_MESSAGE(types.contains(type), type);
}

TEST_CASE("export: an op without a mapping is refused, naming the op and the module path") {
  TempDir dir;
  auto outer = std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{std::make_shared<Gathering>()});
  const std::string message = export_error(*outer, randn({1, 1, 2, 2}), dir.file("gather.onnx"));
  CHECK(message.find("op 'gather'") != std::string::npos);
  CHECK(message.find("module '0'") != std::string::npos);
  CHECK(message.find("cannot be exported") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("gather.onnx")));
}

TEST_CASE("export: a forward that reads the input outside the recording (detach) is refused, not frozen") {
  TempDir dir;
  Detaching model;
  const std::string message = export_error(model, randn({1, 1, 2, 2}), dir.file("detach.onnx"));
  CHECK(message.find("depends on the model's input through something the recording does not see") !=
        std::string::npos);
  CHECK(message.find("op add") == std::string::npos);  // named as "input 1 of add in the model's own forward"
  CHECK(message.find("of add") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("detach.onnx")));
}
