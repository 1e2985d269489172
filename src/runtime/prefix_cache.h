// The prefix KV cache: keys and values of earlier sequences, kept in the model's blocks
// (models::KvBlockPtr, shared, never copied while whole) so that a new prompt that starts
// like earlier work (the same system prompt, the same image at the same budget, the
// conversation so far) attaches that part and prefills only the rest.
//
// What identifies a token's keys and values is everything before it and itself, so the
// cache is a tree of blocks per model: a node holds one block's token keys (TokenKey) and
// the block; its children continue it. A node may hold fewer than a block's tokens (the
// end of a sequence); a longer match replaces it. Lookups match whole blocks and then the
// longest common run of a last one (attach copies that block's rows).
//
// Token keys: a text token is its id; an image pad token is its image's key (content hash
// and preprocessing budget) and its index in the image, never the placeholder id, so two
// images never share a block. Trees are per model key (prefix_model_key: the model
// instance, its folder, weight and activation types), so models and weight types never mix.
//
// Bounded by a byte budget (every block it holds counted in full), least recently used
// blocks evicted first, a block only after every block that continues it; storing never
// fails (a budget too small keeps less, 0 keeps nothing). Thread-safe (one mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "models/model.h"

namespace kantu::runtime {

using TokenKey = uint64_t;

// One image of a prompt for the keys: its identity and its pad tokens.
struct ImageTokens {
  std::string key;  // content hash + preprocessing budget (image_cache_key)
  int64_t tokens = 0;
};

// "<content hash>/<min_pixels>/<max_pixels>": the identity of an image's tokens.
std::string image_cache_key(const std::string& content_hash, int64_t min_pixels, int64_t max_pixels);

// The keys of a prompt's tokens: `pad_id` tokens take the images' keys in order, each
// image `tokens` of them; Error(kInvalidArgument) when the counts do not match.
std::vector<TokenKey> prompt_token_keys(std::span<const int32_t> ids, int32_t pad_id,
                                        std::span<const ImageTokens> images);

// Whose blocks these are: the model instance, its folder and weight / activation types.
std::string prefix_model_key(const models::Model& model, const models::WeightOptions& weights);

struct PrefixCacheStats {
  int64_t hits = 0;        // lookups that reused at least one token
  int64_t misses = 0;      // lookups that reused none
  int64_t hit_tokens = 0;  // tokens reused in all
  int64_t evictions = 0;   // blocks let go for room
  int64_t blocks = 0;      // held now
  size_t bytes = 0;        // held now
  size_t budget = 0;
};

class PrefixCache {
 public:
  explicit PrefixCache(size_t budget_bytes) : budget_(budget_bytes) {}
  ~PrefixCache();
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  size_t budget() const { return budget_; }

  struct Match {
    std::vector<models::KvBlockPtr> blocks;  // for Model::attach_kv
    int64_t tokens = 0;
  };
  // The longest stored prefix of `keys` under model_key, at most `limit` tokens.
  Match lookup(const std::string& model_key, std::span<const TokenKey> keys, int64_t limit);

  // Stores a sequence's blocks: keys[i] is its token i (keys.size() tokens, all held);
  // block(b) gives its block b (of `block_tokens` tokens, `block_bytes` each). Only blocks
  // the cache does not hold yet are asked for.
  void insert(const std::string& model_key, std::span<const TokenKey> keys, int64_t block_tokens,
              size_t block_bytes, const std::function<models::KvBlockPtr(int64_t)>& block);

  PrefixCacheStats stats() const;
  void clear();

 private:
  struct Node {
    Node* parent = nullptr;
    std::vector<TokenKey> keys;  // the block's tokens held (<= block_tokens)
    models::KvBlockPtr block;
    size_t bytes = 0;  // the block's, counted in full
    std::vector<std::unique_ptr<Node>> children;
    std::list<Node*>::iterator lru;  // (roots are not in the list)
  };
  struct Tree {
    Node root;
    int64_t block_tokens = 0;
    size_t block_bytes = 0;
  };
  void touch_path(Node* deepest);
  void evict_over_budget();
  void drop(Node* node);  // with its subtree

  const size_t budget_;
  mutable std::mutex mutex_;
  std::map<std::string, Tree> trees_;
  std::list<Node*> lru_;  // most recently used first; a parent is always before its children
  size_t bytes_ = 0;
  PrefixCacheStats counts_;
};

}  // namespace kantu::runtime
