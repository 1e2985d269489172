// The environment read the way huggingface_hub reads it: endpoint, cache, token, offline.
#include <gtest/gtest.h>

#include "core/error.h"
#include "hub/hub_config.h"
#include "hub/repo_cache.h"
#include "support/env_scope.h"
#include "support/testdata.h"

namespace kantu::hub {
namespace {

// Every variable HubConfig reads, unset for each test.
class Env : public test::EnvScope {
 public:
  Env()
      : EnvScope({"HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HOME", "HF_HUB_CACHE",
                  "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                  "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT", "HOME"}) {}
};

TEST(HubConfig, DefaultsFollowHome) {
  Env env;
  env.set("HOME", "/home/u");
  const HubConfig c = HubConfig::from_env();
  EXPECT_EQ(c.endpoint, "https://huggingface.co");
  EXPECT_EQ(c.cache_dir, "/home/u/.cache/huggingface/hub");
  EXPECT_FALSE(c.offline);
  EXPECT_EQ(c.token, "");
}

TEST(HubConfig, CachePrecedence) {
  Env env;
  env.set("HOME", "/home/u");
  env.set("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(HubConfig::from_env().cache_dir, "/xdg/huggingface/hub");
  env.set("HF_HOME", "~/hf");
  EXPECT_EQ(HubConfig::from_env().cache_dir, "/home/u/hf/hub");
  env.set("HUGGINGFACE_HUB_CACHE", "/legacy");
  EXPECT_EQ(HubConfig::from_env().cache_dir, "/legacy");
  env.set("HF_HUB_CACHE", "$HOME/c");
  EXPECT_EQ(HubConfig::from_env().cache_dir, "/home/u/c");
}

TEST(HubConfig, EndpointOfflineTimeouts) {
  Env env;
  env.set("HF_ENDPOINT", "https://hf-mirror.com/");
  env.set("HF_HUB_OFFLINE", "yes");
  env.set("HF_HUB_DOWNLOAD_TIMEOUT", "2.5");
  const HubConfig c = HubConfig::from_env();
  EXPECT_EQ(c.endpoint, "https://hf-mirror.com");
  EXPECT_TRUE(c.offline);
  EXPECT_DOUBLE_EQ(c.download_timeout_s, 2.5);
  env.set("HF_HUB_OFFLINE", "0");
  EXPECT_FALSE(HubConfig::from_env().offline);
  env.set("HF_ENDPOINT", "hf-mirror.com");
  EXPECT_THROW(HubConfig::from_env(), Error);
  env.set("HF_ENDPOINT", "https://hf-mirror.com");
  env.set("HF_HUB_ETAG_TIMEOUT", "soon");
  EXPECT_THROW(HubConfig::from_env(), Error);
}

TEST(HubConfig, TokenFromEnvironmentThenFile) {
  Env env;
  const std::string dir = test::make_temp_dir("hub_token");
  env.set("HF_HOME", dir);
  EXPECT_EQ(HubConfig::from_env().token, "");
  test::write_text_file(dir + "/token", "  hf_fromfile\r\n");
  HubConfig c = HubConfig::from_env();
  EXPECT_EQ(c.token, "hf_fromfile");
  EXPECT_EQ(c.token_source, dir + "/token");
  test::write_text_file(dir + "/other", "hf_otherpath\n");
  env.set("HF_TOKEN_PATH", dir + "/other");
  EXPECT_EQ(HubConfig::from_env().token, "hf_otherpath");
  env.set("HUGGING_FACE_HUB_TOKEN", "hf_legacy");
  EXPECT_EQ(HubConfig::from_env().token, "hf_legacy");
  env.set("HF_TOKEN", "hf_env\n");
  c = HubConfig::from_env();
  EXPECT_EQ(c.token, "hf_env");
  EXPECT_EQ(c.token_source, "HF_TOKEN");
}

TEST(RepoCache, NamesAndPaths) {
  EXPECT_EQ(repo_folder_name("Qwen/Qwen3-VL-2B-Instruct"), "models--Qwen--Qwen3-VL-2B-Instruct");
  EXPECT_EQ(repo_id_from_folder("models--Qwen--Qwen3-VL-2B-Instruct"), "Qwen/Qwen3-VL-2B-Instruct");
  EXPECT_FALSE(repo_id_from_folder("datasets--a--b"));
  EXPECT_FALSE(repo_id_from_folder("models--ab"));
  EXPECT_TRUE(is_commit_hash("0123456789abcdef0123456789abcdef01234567"));
  EXPECT_FALSE(is_commit_hash("0123456789ABCDEF0123456789abcdef01234567"));
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b", "./a"})
    EXPECT_FALSE(is_safe_repo_path(bad)) << bad;
  EXPECT_TRUE(is_safe_repo_path("a/b/c.json"));
  const RepoCache cache("/c", "o/n");
  EXPECT_EQ(cache.pointer_path("abc", "x/y.json"), "/c/models--o--n/snapshots/abc/x/y.json");
  EXPECT_EQ(cache.blob_lock_path("e1"), "/c/.locks/models--o--n/e1.lock");
  EXPECT_THROW(cache.pointer_path("abc", "../../../etc/passwd"), Error);

  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  EXPECT_EQ(model_name_of_cache_path("/c/models--Qwen--Qwen3-VL-2B-Instruct/snapshots/" + commit),
            "Qwen/Qwen3-VL-2B-Instruct");
  EXPECT_EQ(model_name_of_cache_path("/c/models--Qwen--Qwen3-VL-2B-Instruct/snapshots/" + commit + "/"),
            "Qwen/Qwen3-VL-2B-Instruct");
  EXPECT_EQ(model_name_of_cache_path("/c/models--o--n-GGUF/snapshots/" + commit + "/q/n-Q8_0.gguf"), "o/n-GGUF:Q8_0");
  EXPECT_FALSE(model_name_of_cache_path("/models/Qwen3-VL-2B-Instruct"));
  EXPECT_FALSE(model_name_of_cache_path("/c/datasets--o--n/snapshots/" + commit));
}

}  // namespace
}  // namespace kantu::hub
