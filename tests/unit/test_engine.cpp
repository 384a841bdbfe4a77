// runtime/engine.h: device selection and the errors for devices or options a build / machine cannot serve.

#include <gtest/gtest.h>

#include "golden/golden_cases.h"
#include "runtime/engine.h"
#include "test_util.h"

namespace qinfer::test {
namespace {

TEST(Engine, ParseDevice) {
    EXPECT_EQ(parse_device("cpu"), Device::Cpu);
    EXPECT_EQ(parse_device("cuda"), Device::Cuda);
    EXPECT_EQ(parse_device("auto"), cuda_device_available() ? Device::Cuda : Device::Cpu);
    EXPECT_ERROR_CONTAINS(parse_device("gpu"), "unknown --device 'gpu'", "cpu, cuda or auto");
}

TEST(Engine, ActivationQuantEmulationIsCpuOnly) {
    EngineOptions o;
    o.device = Device::Cuda;
    o.activation_quant = true;
    EXPECT_ERROR_CONTAINS(load_engine(golden_dir() / "dense_text", o), "--activation-quant", "--device cpu");
}

TEST(Engine, CudaWithoutAGpuIsAClearError) {
    if (cuda_device_available()) GTEST_SKIP() << "a GPU is visible";
    EngineOptions o;
    o.device = Device::Cuda;
    o.progress = false;
    try {
        (void)load_engine(golden_dir() / "dense_text", o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        const std::string m = e.what();
        // CPU-only build: built without the backend; CUDA build on a machine without a GPU: no device visible.
        EXPECT_TRUE(m.find("built without the CUDA backend") != std::string::npos ||
                    m.find("no CUDA device is visible") != std::string::npos)
            << m;
    }
}

TEST(Engine, CpuEngineContinuesTheSequenceUntilReset) {
    EngineOptions o;
    o.progress = false;
    const auto e = load_engine(golden_dir() / "dense_text", o);
    const std::vector<int64_t> ids = {1, 2, 3};
    const Tensor all = e->forward(ids, true);
    EXPECT_EQ(all.dim(0), 3);
    e->reset();
    const Tensor last = e->forward(ids, false);
    ASSERT_EQ(last.dim(0), 1);
    for (int64_t v = 0; v < last.dim(1); ++v) EXPECT_EQ(last.data()[v], all.row(2)[v]);
}

TEST(Engine, CliRejectsAnUnknownDevice) {
    const CliResult r = run_cli("generate --model " + shell_quote((golden_dir() / "dense_text").string()) +
                                " --ids 1,2 --device tpu");
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("unknown --device 'tpu'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace qinfer::test

namespace qinfer::test {
namespace {

TEST(Engine, BenchRejectsABadBatchList) {
    const CliResult r = run_cli("bench --model " + shell_quote((golden_dir() / "dense_text").string()) + " --batch 1,0");
    EXPECT_NE(r.code, 0);
#ifdef QINFER_HAVE_CUDA
    EXPECT_NE(r.err.find("--batch: batch sizes must be >= 1, got 0"), std::string::npos) << r.err;
#else
    EXPECT_NE(r.err.find("built without"), std::string::npos) << r.err;
#endif
}

}  // namespace
}  // namespace qinfer::test
