// Fluxion: everything a program needs, in one include.
#pragma once

#include "autograd/gradcheck.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/factory.h"
#include "core/parallel.h"
#include "core/random.h"
#include "core/tensor.h"
#include "core/version.h"
