// Printing in PyTorch's manner:
//   tensor([[ 1.0000, -2.5000],
//           [ 3.0000,  4.0000]], dtype=float64, requires_grad=true)
// Large tensors show their first and last three entries per dimension.
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>

#include "core/tensor.h"

namespace fluxion {
namespace {

constexpr std::int64_t kSummarizeAbove = 1000;  // elements
constexpr std::int64_t kEdgeItems = 3;

// Every element as text, in row-major order, in one shared style: whole
// numbers as "3.", others with four decimals, scientific when the magnitudes
// call for it. int64 values are formatted from the integers themselves.
std::vector<std::string> format_values(const Tensor& t) {
  std::vector<std::string> text;
  if (t.dtype() == kInt64) {
    for (std::int64_t v : t.to_vector<std::int64_t>()) text.push_back(std::to_string(v));
    return text;
  }
  const std::vector<double> values = t.to_vector<double>();
  bool integral = true;
  double largest = 0, smallest = INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    if (v != std::floor(v)) integral = false;
    largest = std::max(largest, std::fabs(v));
    if (v != 0) smallest = std::min(smallest, std::fabs(v));
  }
  const bool scientific = largest >= 1e8 || (!integral && smallest < 1e-4);
  for (double v : values) {
    std::ostringstream s;
    if (!std::isfinite(v)) s << (std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
    else if (scientific) s << std::scientific << std::setprecision(4) << v;
    else if (integral) s << std::fixed << std::setprecision(0) << v << '.';
    else s << std::fixed << std::setprecision(4) << v;
    text.push_back(s.str());
  }
  return text;
}

void print_dim(std::ostream& out, const std::vector<std::string>& text, const Shape& shape, std::size_t dim,
               std::int64_t base, int width, int indent, bool summarize) {
  const Strides strides = contiguous_strides(shape);
  const std::int64_t size = shape[dim];
  const bool innermost = dim + 1 == shape.size();
  // Between rows: a comma, one newline per dimension below, then the indent.
  std::string separator(",");
  if (innermost) separator += ' ';
  else separator.append(shape.size() - dim - 1, '\n').append(indent + dim + 1, ' ');
  out << '[';
  for (std::int64_t i = 0; i < size; ++i) {
    if (summarize && size > 2 * kEdgeItems && i == kEdgeItems) {
      out << "..." << separator;
      i = size - kEdgeItems - 1;
      continue;
    }
    const std::int64_t at = base + i * strides[dim];
    if (innermost) out << std::setw(width) << text[at];
    else print_dim(out, text, shape, dim + 1, at, width, indent, summarize);
    if (i + 1 < size) out << separator;
  }
  out << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const Tensor& t) {
  if (!t.defined()) return out << "tensor(undefined)";
  const std::vector<std::string> text = format_values(t);
  int width = 1;
  for (const auto& s : text) width = std::max<int>(width, static_cast<int>(s.size()));

  out << "tensor(";
  if (t.dim() == 0) out << text[0];
  else print_dim(out, text, t.shape(), 0, 0, width, 7, t.numel() > kSummarizeAbove);
  if (t.numel() == 0) out << ", size=" << to_string(t.shape());
  if (t.dtype() != kFloat32) out << ", dtype=" << t.dtype();
  if (!t.device().is_cpu()) out << ", device=" << t.device();
  if (t.requires_grad()) out << ", requires_grad=true";
  return out << ')';
}

}  // namespace fluxion
