#include "train/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <type_traits>

#include "core/cuda.h"
#include "core/error.h"
#include "core/json.h"
#include "core/factory.h"
#include "data/datasets.h"
#include "data/image_folder.h"
#include "layers/models/registry.h"
#include "optim/make_optimizer.h"
#include "train/config_fields.h"

namespace fluxion::train {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!s.empty() && s.back() == sep) parts.emplace_back();
  return parts;
}

// A finite number: "nan" and "inf" are numbers to std::stod, not to a schedule.
double parse_number(const std::string& text, const std::string& spec) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  FLUXION_CHECK_INPUT(used == text.size() && !text.empty() && std::isfinite(value), "--schedule '", spec, "': '",
                      text, "' is not a finite number");
  return value;
}

// An epoch count: digits only, so "1.5", "1e3", "-2" and a value past
// 2^63 are refused as typed rather than cast (a fraction truncated, NaN or
// an overflow undefined).
std::int64_t parse_epochs(const std::string& text, const std::string& spec) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  FLUXION_CHECK_INPUT(!text.empty() && text[0] != '-' && error == std::errc() && end == text.data() + text.size(),
                      "--schedule '", spec, "': '", text, "' is not a whole number of epochs");
  return value;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// One key and value of a JSON config, and where it came from, for the errors.
struct JsonEntry {
  const std::string& source;
  const std::string& key;
  const nlohmann::json& value;

  [[noreturn]] void fail(std::string_view expected) const {
    throw InputError(detail::concat(source, ": \"", key, "\" must be ", expected, ", got ", value.dump()));
  }
};

// from_json's readers, one per type of TrainConfig field: each checks the
// value's JSON type and stores it.
void read(const JsonEntry& e, std::string& field) {
  if (!e.value.is_string()) e.fail("a string");
  field = e.value.get<std::string>();
}

void read(const JsonEntry& e, bool& field) {
  if (!e.value.is_boolean()) e.fail("true or false");
  field = e.value.get<bool>();
}

void read(const JsonEntry& e, double& field) {
  if (!e.value.is_number()) e.fail("a number");
  field = e.value.get<double>();
}

template <class Field>
  requires(std::is_integral_v<Field> && !std::is_same_v<Field, bool>)
void read(const JsonEntry& e, Field& field) {
  if (!e.value.is_number_integer()) e.fail("an integer");
  // Stored only if the field's type holds it: a negative seed or a huge
  // thread count must not wrap into a valid-looking value.
  if (e.value.is_number_unsigned()) {
    const auto v = e.value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<Field>::max())) e.fail("an integer in range");
    field = static_cast<Field>(v);
  } else {
    const auto v = e.value.get<std::int64_t>();
    if (v < 0 && std::is_unsigned_v<Field>) e.fail("a non-negative integer");
    if (std::is_signed_v<Field> && (v < static_cast<std::int64_t>(std::numeric_limits<Field>::min()) ||
                                    v > static_cast<std::int64_t>(std::numeric_limits<Field>::max())))
      e.fail("an integer in range");
    field = static_cast<Field>(v);
  }
}

void read(const JsonEntry& e, std::map<std::string, double>& options) {
  if (!e.value.is_object()) e.fail("an object of option names and numbers");
  for (const auto& [name, v] : e.value.items()) {
    if (!v.is_number()) e.fail("an object of option names and numbers");
    options[name] = v.get<double>();
  }
}

// The optimizer_flags keys ("lr": a number, "betas": [beta1, beta2]) set
// options directly; false for any other key.
bool read_optimizer_flag(const JsonEntry& e, std::map<std::string, double>& options) {
  for (const OptimizerFlag& flag : optimizer_flags) {
    if (e.key != flag.key) continue;
    if (flag.second_option == nullptr) {
      read(e, options[flag.option]);
    } else {
      const nlohmann::json& v = e.value;
      if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
        e.fail(detail::concat("[", flag.option, ", ", flag.second_option, "]"));
      options[flag.option] = v[0].get<double>();
      options[flag.second_option] = v[1].get<double>();
    }
    return true;
  }
  return false;
}

// Every key from_json accepts, in the table's order, with the
// optimizer_flags' keys before optimizer_options.
std::vector<std::string> known_keys() {
  std::vector<std::string> keys;
  for_each_config_field([&](const auto& field) {
    if (std::string_view(field.key) == "optimizer_options")
      for (const OptimizerFlag& flag : optimizer_flags) keys.push_back(flag.key);
    keys.push_back(field.key);
  });
  return keys;
}

}  // namespace

std::map<std::string, double> paper_hyperparameters(const std::string& optimizer, const std::string& model,
                                                    std::int64_t batch_size) {
  // Luo et al. (2019) tuned Adam's beta1 per model: 0.99 for ResNet, 0.9 for DenseNet.
  const double adam_beta1 = model.rfind("resnet", 0) == 0 ? 0.99 : 0.9;
  if (optimizer == "sgd") return {{"lr", 0.1}, {"momentum", 0.9}, {"weight_decay", 5e-4}};
  if (optimizer == "adam" || optimizer == "amsgrad")
    return {{"lr", 1e-3}, {"beta1", adam_beta1}, {"beta2", 0.999}, {"weight_decay", 5e-4}};
  if (optimizer == "adagrad") return {{"lr", 1e-2}, {"weight_decay", 5e-4}};
  if (optimizer == "adabound" || optimizer == "amsbound")
    return {{"lr", 1e-3}, {"final_lr", 0.1}, {"gamma", 1e-3}, {"weight_decay", 5e-4}};
  // The paper's decoupled decay of 5e-5 per step is PyTorch AdamW's lr x weight_decay.
  if (optimizer == "adamw") return {{"lr", 1e-3}, {"weight_decay", 5e-5 / 1e-3}};
  if (optim::has_option(optimizer, "sgd_lr"))  // adabayes, adabayes-fp, adabayes-rescaled
    return {{"lr", 1e-3}, {"sgd_lr", 0.1}, {"batch_size", static_cast<double>(batch_size)}, {"weight_decay", 5e-5}};
  return {};  // rmsprop: not in the paper; PyTorch's defaults
}

void apply_paper_preset(TrainConfig& config) {
  config.batch_size = 128;
  config.epochs = 200;
  config.schedule = "multistep:150:0.1";
  config.augment = 1;
}

namespace {

constexpr const char* kScheduleForms =
    "expected none, step:EPOCHS:GAMMA (e.g. step:150:0.1), multistep:E1,E2,...:GAMMA, cosine[:EPOCHS], "
    "onecycle[:PCT_START] or plateau[:key=value,...]";

// A count of epochs as scheduler steps (`unit` per epoch), refused where
// the product would not fit; `what` names the setting in the message.
std::int64_t in_steps(std::int64_t epochs, std::int64_t unit, const std::string& what) {
  FLUXION_CHECK_INPUT(epochs <= std::numeric_limits<std::int64_t>::max() / unit, what, ": ", epochs, " epochs of ",
                      unit, " steps are too many");
  return epochs * unit;
}

// The spec's curve in scheduler steps, `unit` of them per epoch; a bare
// cosine or onecycle spans `span` steps (the run's, after the warmup).
optim::Schedule main_curve(const std::string& spec, std::int64_t span, std::int64_t unit) {
  const std::string quoted = "--schedule '" + spec + "'";
  const std::vector<std::string> parts = split(spec, ':');
  const std::string& kind = parts.empty() ? spec : parts[0];
  try {
    if ((kind == "none" && parts.size() == 1) || (kind == "plateau" && parts.size() <= 2))
      return [](std::int64_t) { return 1.0; };
    if (kind == "step" && parts.size() == 3)
      return optim::step_decay(in_steps(parse_epochs(parts[1], spec), unit, quoted), parse_number(parts[2], spec));
    if (kind == "multistep" && parts.size() == 3) {
      std::vector<std::int64_t> milestones;
      for (const auto& m : split(parts[1], ',')) milestones.push_back(in_steps(parse_epochs(m, spec), unit, quoted));
      return optim::multistep(milestones, parse_number(parts[2], spec));
    }
    if (kind == "cosine" && parts.size() <= 2) {
      FLUXION_CHECK_INPUT(parts.size() == 2 || span >= 1, "--schedule cosine spans the epochs after the warmup, "
                          "and the warmup leaves none; shorten the warmup or give cosine:EPOCHS");
      return optim::cosine(parts.size() == 2 ? in_steps(parse_epochs(parts[1], spec), unit, quoted) : span);
    }
    if (kind == "onecycle" && parts.size() <= 3) {
      const double pct_start = parts.size() >= 2 ? parse_number(parts[1], spec) : 0.3;
      const std::int64_t total = parts.size() == 3 ? in_steps(parse_epochs(parts[2], spec), unit, quoted) : span;
      FLUXION_CHECK_INPUT(total >= span, "--schedule '", spec, "': the cycle spans ", total / unit,
                          " epochs and the run ", span / unit,
                          "; PyTorch's OneCycleLR cannot step past its total_steps");
      return optim::one_cycle(total, pct_start);
    }
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(detail::concat("--schedule '", spec, "': ", e.what()));
  }
  throw InputError(detail::concat("--schedule '", spec, "': ", kScheduleForms));
}

std::string schedule_kind(const std::string& spec) { return spec.substr(0, spec.find(':')); }

// Scheduler steps per epoch: 1, or the batches of an epoch when the
// schedule steps per batch.
std::int64_t schedule_unit(const TrainConfig& c, std::int64_t steps_per_epoch) {
  return c.schedule_per == "step" ? steps_per_epoch : 1;
}

// The warmup in scheduler steps.
std::int64_t warmup_length(const TrainConfig& c, std::int64_t unit) {
  return c.warmup_steps > 0 ? c.warmup_steps : in_steps(c.warmup_epochs, unit, "--warmup-epochs");
}

// One key=value of a plateau spec into `p`.
void read_plateau_key(PlateauSpec& p, const std::string& key, const std::string& value, const std::string& spec) {
  optim::PlateauOptions& o = p.options;
  if (key == "mode") o.mode = value;
  else if (key == "threshold_mode") o.threshold_mode = value;
  else if (key == "metric") p.metric = value;
  else if (key == "factor") o.factor = parse_number(value, spec);
  else if (key == "threshold") o.threshold = parse_number(value, spec);
  else if (key == "min_lr") o.min_lr = parse_number(value, spec);
  else if (key == "eps") o.eps = parse_number(value, spec);
  else if (key == "patience") o.patience = parse_epochs(value, spec);
  else if (key == "cooldown") o.cooldown = parse_epochs(value, spec);
  else
    throw InputError(detail::concat("--schedule '", spec, "': unknown plateau key '", key,
                                    "'; known keys: mode, factor, patience, threshold, threshold_mode, cooldown, "
                                    "min_lr, eps, metric"));
}

}  // namespace

optim::Schedule parse_schedule(const std::string& spec, std::int64_t epochs) { return main_curve(spec, epochs, 1); }

optim::Schedule make_schedule(const TrainConfig& c, std::int64_t steps_per_epoch) {
  FLUXION_CHECK_INPUT(steps_per_epoch >= 1, "make_schedule: expected steps_per_epoch >= 1, got ", steps_per_epoch);
  const std::int64_t unit = schedule_unit(c, steps_per_epoch);
  const std::int64_t warmup = warmup_length(c, unit);
  optim::Schedule main = main_curve(c.schedule, in_steps(c.epochs, unit, "--epochs") - warmup, unit);
  if (warmup == 0) return main;
  return optim::sequential(optim::linear_warmup(warmup, c.warmup_start_factor), std::move(main), warmup);
}

std::optional<PlateauSpec> parse_plateau(const std::string& spec) {
  const std::vector<std::string> parts = split(spec, ':');
  if (parts.empty() || parts[0] != "plateau") return std::nullopt;
  FLUXION_CHECK_INPUT(parts.size() <= 2, "--schedule '", spec, "': expected plateau[:key=value,...]");
  PlateauSpec p;
  if (parts.size() == 2)
    for (const std::string& item : split(parts[1], ',')) {
      const std::size_t eq = item.find('=');
      FLUXION_CHECK_INPUT(eq != std::string::npos, "--schedule '", spec, "': '", item, "' is not key=value");
      read_plateau_key(p, item.substr(0, eq), item.substr(eq + 1), spec);
    }
  FLUXION_CHECK_INPUT(p.metric == "test_loss" || p.metric == "test_error", "--schedule '", spec,
                      "': metric must be test_loss or test_error, got '", p.metric, "'");
  try {
    Tensor stand_in = zeros({1}).requires_grad_();
    auto optimizer = optim::make_optimizer("sgd", {stand_in}, {{"lr", 1.0}});
    optim::ReduceLROnPlateau check(*optimizer, p.options);  // PyTorch's checks of the options
  } catch (const Error& e) {
    throw InputError(detail::concat("--schedule '", spec, "': ", e.what()));
  }
  return p;
}

void check_lr_stays_positive(const TrainConfig& c, std::int64_t steps_per_epoch) {
  if (!optim::has_option(c.optimizer, "sgd_lr")) return;  // the AdaBayes family
  // AdaBayes's sigma^2 follows the lr (Eq. 23 with the schedule's factor),
  // so a step at lr 0 would divide by zero.
  const std::string why = detail::concat(", and ", c.optimizer, " needs lr > 0 (its sigma^2 follows the lr)");
  if (const auto plateau = parse_plateau(c.schedule))
    FLUXION_CHECK_INPUT(plateau->options.min_lr > 0, "--schedule ", c.schedule,
                        ": a plateau's reductions go towards min_lr 0", why, "; give min_lr=X with X > 0");
  const optim::Schedule schedule = make_schedule(c, steps_per_epoch);
  const std::int64_t unit = schedule_unit(c, steps_per_epoch), total = c.epochs * unit;
  for (std::int64_t t = 0; t < total; ++t) {
    if (schedule(t) > 0) continue;
    const std::string where =
        unit == 1 ? detail::concat("epoch ", t + 1, " of ", c.epochs)
                  : detail::concat("step ", t + 1, " of ", total, " (epoch ", t / unit + 1, ")");
    throw InputError(detail::concat("--schedule ", c.schedule, ": the lr reaches 0 at ", where, why,
                                    "; end the schedule after the run (cosine:T with T past the run's epochs)"));
  }
}

std::string recorded_schedule(const TrainConfig& config) {
  const std::vector<std::string> parts = split(config.schedule, ':');
  if (config.schedule == "cosine" && config.warmup_steps == 0)
    return "cosine:" + std::to_string(config.epochs - config.warmup_epochs);
  if (!parts.empty() && parts[0] == "onecycle" && parts.size() <= 2)
    return "onecycle:" + (parts.size() == 2 ? parts[1] : std::string("0.3")) + ":" + std::to_string(config.epochs);
  return config.schedule;
}

std::map<std::string, double> resolved_optimizer_options(const TrainConfig& config) {
  std::map<std::string, double> options = paper_hyperparameters(config.optimizer, config.model, config.batch_size);
  for (const auto& [name, value] : config.optimizer_options) options[name] = value;
  return options;
}

namespace {

// The schedule, its warmup and its stepping, and for AdaBayes an lr that
// stays > 0 (checked in epochs; a warmup in batches needs the batches per
// epoch, and the trainer checks it).
void validate_schedule(const TrainConfig& c) {
  FLUXION_CHECK_INPUT(c.schedule_per == "epoch" || c.schedule_per == "step",
                      "--schedule-per: expected epoch or step, got '", c.schedule_per, "'");
  FLUXION_CHECK_INPUT(c.warmup_epochs >= 0, "--warmup-epochs: expected 0 or more epochs, got ", c.warmup_epochs);
  FLUXION_CHECK_INPUT(c.warmup_steps >= 0, "--warmup-steps: expected 0 or more batches, got ", c.warmup_steps);
  FLUXION_CHECK_INPUT(c.warmup_epochs == 0 || c.warmup_steps == 0,
                      "--warmup-epochs and --warmup-steps exclude each other: give one");
  FLUXION_CHECK_INPUT(c.warmup_steps == 0 || c.schedule_per == "step",
                      "--warmup-steps counts batches, which needs --schedule-per step (or give --warmup-epochs)");
  FLUXION_CHECK_INPUT(c.warmup_start_factor > 0 && c.warmup_start_factor <= 1,
                      "--warmup-start-factor: expected a number in (0, 1], got ", c.warmup_start_factor);
  const std::string kind = schedule_kind(c.schedule);
  const bool warmup = c.warmup_epochs > 0 || c.warmup_steps > 0;
  FLUXION_CHECK_INPUT(kind != "onecycle" || !warmup, "--schedule ", c.schedule,
                      " has its own warmup (its first PCT_START of the run); drop --warmup-epochs and --warmup-steps");
  FLUXION_CHECK_INPUT(kind != "plateau" || c.schedule_per == "epoch", "--schedule ", c.schedule,
                      " steps once per epoch, on the epoch's test metric; --schedule-per step does not apply to it "
                      "(a warmup before it counts epochs: --warmup-epochs)");
  parse_plateau(c.schedule);
  if (c.warmup_steps > 0) {
    parse_schedule(c.schedule, c.epochs);  // the syntax; the span after the warmup once the batches are known
    return;
  }
  // A curve per batch can reach 0 only where it steps at whole epochs
  // (step, multistep, a cosine's end), where it equals the curve per epoch.
  TrainConfig per_epoch = c;
  per_epoch.schedule_per = "epoch";
  make_schedule(per_epoch, 1);
  check_lr_stays_positive(per_epoch, 1);
}

}  // namespace

void validate(const TrainConfig& c) {
  FLUXION_CHECK_INPUT(contains(nn::model_names(), c.model), "--model: unknown model '", c.model,
                      "'; known models: ", detail::join(nn::model_names()));
  data::dataset_info(c.dataset);  // throws InputError listing the names
  FLUXION_CHECK_INPUT(contains(optim::optimizer_names(), c.optimizer), "--optimizer: unknown optimizer '",
                      c.optimizer, "'; known optimizers: ", detail::join(optim::optimizer_names()));
  FLUXION_CHECK_INPUT(c.epochs >= 1 && c.epochs <= 100000, "--epochs: expected 1 to 100000, got ", c.epochs);
  FLUXION_CHECK_INPUT(c.batch_size >= 1 && c.batch_size <= 65536, "--batch-size: expected 1 to 65536, got ",
                      c.batch_size);
  FLUXION_CHECK_INPUT(c.threads >= 0 && c.threads <= 4096, "--threads: expected 0 (default) to 4096, got ",
                      c.threads);
  const std::string unavailable = cuda::unavailable_reason(parse_device(c.device, "--device"));
  FLUXION_CHECK_INPUT(unavailable.empty(), "--device ", c.device, ": ", unavailable);
  FLUXION_CHECK_INPUT(c.subset >= 0, "--subset: expected a number of images >= 0 (0: all), got ", c.subset);
  FLUXION_CHECK_INPUT(c.augment >= -1 && c.augment <= 1, "augment: expected 1, 0 or -1 (the dataset's default), got ",
                      c.augment);
  const bool folder = data::dataset_info(c.dataset).from_folder;
  FLUXION_CHECK_INPUT(!folder || !c.data_dir.empty(), "--dataset ", c.dataset,
                      " needs --data-dir DIR, the folder holding train/<class>/ and test/<class>/ (docs/data.md)");
  for (const auto& [flag, given] : {std::pair{"--image-size", !c.image_size.empty()},
                                    std::pair{"--channels", c.channels != 0},
                                    std::pair{"--skip-bad-images", c.skip_bad_images}})
    FLUXION_CHECK_INPUT(folder || !given, flag, " applies to --dataset imagefolder only, not ", c.dataset);
  if (!c.image_size.empty()) data::parse_image_size(c.image_size, "--image-size");
  FLUXION_CHECK_INPUT(c.channels == 0 || c.channels == 1 || c.channels == 3,
                      "--channels: expected 1 (grey) or 3 (RGB), or 0 for the images' own; got ", c.channels);
  if (!c.mean.empty()) data::parse_channel_values(c.mean, "--mean", false);
  if (!c.std.empty()) data::parse_channel_values(c.std, "--std", true);
  // At most 16 TiB, so that the count of bytes (MiB << 20) cannot overflow.
  FLUXION_CHECK_INPUT(c.image_cache_mb >= 0 && c.image_cache_mb <= (1 << 24),
                      "--image-cache-mb: expected a whole number from 0 to 16777216 MiB, got ", c.image_cache_mb);
  FLUXION_CHECK_INPUT(c.workers >= 1 && c.workers <= 64, "--workers: expected 1 to 64, got ", c.workers);
  FLUXION_CHECK_INPUT(c.skip_nonfinite >= 0, "--skip-nonfinite: expected 0 or more batches, got ", c.skip_nonfinite);
  FLUXION_CHECK_INPUT(c.ema == 0 || (c.ema > 0 && c.ema < 1),
                      "--ema: expected 0 (no EMA) or a decay in (0, 1), got ", c.ema);
  FLUXION_CHECK_INPUT(!c.ema_warmup || c.ema > 0, "--ema-warmup needs --ema DECAY");
  // Finite too: a --config file may hold 1e999, which JSON reads as inf.
  for (const auto& [flag, value] : {std::pair{"--clip-grad-norm", c.clip_grad_norm},
                                    std::pair{"--clip-grad-value", c.clip_grad_value}})
    FLUXION_CHECK_INPUT(value >= 0 && std::isfinite(value), flag, ": expected a number >= 0 (0: off), got ", value);
  FLUXION_CHECK_INPUT(c.log_every >= 0, "--log-every: expected a whole number >= 0 (0: no steps.jsonl), got ",
                      c.log_every);
  FLUXION_CHECK_INPUT(!c.out_dir.empty(), "--out: expected a folder for the run's files");
  FLUXION_CHECK_INPUT(!c.sync_batchnorm || c.distributed, "--sync-batchnorm needs --distributed");
  FLUXION_CHECK_INPUT(c.collective_timeout > 0, "--collective-timeout: expected a positive number of seconds, got ",
                      c.collective_timeout);
  validate_schedule(c);
  // The optimizer checks its own options: build it on a stand-in parameter.
  try {
    Tensor stand_in = zeros({1}).requires_grad_();
    optim::make_optimizer(c.optimizer, {stand_in}, resolved_optimizer_options(c));
  } catch (const Error& e) {
    throw InputError(detail::concat("optimizer options: ", e.what()));
  }
}

nlohmann::json to_json(const TrainConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  for_each_config_field([&](const auto& field) { j[field.key] = c.*field.member; });
  return j;
}

const std::vector<std::string>& run_setting_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> run_settings;
    for_each_config_field([&](const auto& field) {
      if (field.role == Role::run_setting) run_settings.push_back(field.key);
    });
    return run_settings;
  }();
  return keys;
}

std::optional<ConfigDifference> first_difference(const TrainConfig& a, const TrainConfig& b,
                                                 const std::vector<std::string>& ignored) {
  nlohmann::json ja = to_json(a), jb = to_json(b);
  ja["optimizer_options"] = resolved_optimizer_options(a);
  jb["optimizer_options"] = resolved_optimizer_options(b);
  for (const auto& [key, value] : ja.items()) {
    if (contains(ignored, key)) continue;
    if (!jb.contains(key) || jb[key] != value) return ConfigDifference{key, value.dump(), jb.value(key, nlohmann::json()).dump()};
  }
  return std::nullopt;
}

TrainConfig from_json(const nlohmann::json& j, const TrainConfig& base, const std::string& source) {
  FLUXION_CHECK_INPUT(j.is_object(), source, ": expected a JSON object of training options");
  TrainConfig c = base;
  // Named, not a structured binding: clang < 16 (the fuzz build) cannot capture those.
  for (const auto& item : j.items()) {
    const JsonEntry entry{source, item.key(), item.value()};
    if (read_optimizer_flag(entry, c.optimizer_options)) continue;
    bool known = false;
    for_each_config_field([&](const auto& field) {
      if (entry.key != field.key) return;
      read(entry, c.*field.member);
      known = true;
    });
    if (!known)
      throw InputError(
          detail::concat(source, ": unknown key \"", entry.key, "\"; known keys: ", detail::join(known_keys())));
  }
  return c;
}

const std::vector<std::string>& run_record_note_keys() {
  static const std::vector<std::string> keys = {"fluxion_version", "git_commit", "blas", "ranks", "data"};
  return keys;
}

namespace {

nlohmann::json without_notes(nlohmann::json j) {
  if (j.is_object())
    for (const std::string& key : run_record_note_keys()) j.erase(key);
  return j;
}

}  // namespace

TrainConfig from_run_record(const nlohmann::json& record, const std::string& source) {
  // Without these the defaults would stand in, and the checkpoint's tensors
  // would then not match a model it never held.
  if (record.is_object())
    for (const char* key : {"model", "dataset", "optimizer"})
      FLUXION_CHECK_INPUT(record.contains(key), source, ": no \"", key,
                          "\" key; a run's record names the model, dataset and optimizer it trained");
  return from_json(without_notes(record), TrainConfig(), source);
}

nlohmann::json read_json_file(const std::string& path, const std::string& flag) {
  std::error_code error;
  FLUXION_CHECK_INPUT(!std::filesystem::is_directory(path, error), flag, " '", path,
                      "' is a folder; expected a JSON file");
  std::ifstream in(path);
  FLUXION_CHECK_INPUT(in, flag, ": cannot read '", path, "'");
  try {
    return parse_json_bounded(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(detail::concat(flag, " '", path, "': not valid JSON: ", e.what()));
  } catch (const JsonTooDeep& e) {
    throw InputError(detail::concat(flag, " '", path, "': ", e.what()));
  }
}

TrainConfig read_config_file(const std::string& path, const TrainConfig& base) {
  nlohmann::json j = read_json_file(path, "--config");
  // A run's record names its own folder, which a new run must not take.
  if (j.is_object() && j.contains("fluxion_version")) j.erase("out");
  return from_json(without_notes(std::move(j)), base, path);
}

}  // namespace fluxion::train
