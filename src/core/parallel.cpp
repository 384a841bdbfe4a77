#include "core/parallel.h"

#include <omp.h>

namespace qinfer {

int num_threads() { return omp_get_max_threads(); }

}  // namespace qinfer
