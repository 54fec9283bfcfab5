// The CPU backend's kernels, one declaration per Backend entry (core/backend.h
// documents each contract). Each kernel is defined in the file named beside it.
#pragma once

#include "core/backend.h"

namespace fluxion::cpu {

const Backend& backend();  // backend.cpp

void fill(const Tensor& out, double value);                                                // elementwise.cpp
void copy(const Tensor& src, const Tensor& dst);                                           // elementwise.cpp
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);             // elementwise.cpp
void unary(UnaryOp op, const Tensor& a, const Tensor& out, UnaryParams params);            // elementwise.cpp
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);       // elementwise.cpp
void sum(const Tensor& a, const Tensor& out);                                              // reduce.cpp
void max(const Tensor& a, std::int64_t dim, const Tensor& values, const Tensor& indices);  // reduce.cpp
void matmul(const Tensor& a, const Tensor& b, const Tensor& out);                          // matmul.cpp
void softmax(const Tensor& a, std::int64_t dim, bool log, const Tensor& out);              // softmax.cpp
void gather(const Tensor& src, std::int64_t dim, const Tensor& index, const Tensor& out);  // index.cpp
void scatter_add(const Tensor& dst, std::int64_t dim, const Tensor& index, const Tensor& src);  // index.cpp

}  // namespace fluxion::cpu
