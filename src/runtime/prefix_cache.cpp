#include "runtime/prefix_cache.h"

#include <algorithm>

#include "core/error.h"

namespace kantu::runtime {

namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Text keys are ids (< 2^31); image keys have the top bit set, so the two never meet.
constexpr uint64_t kImageBit = uint64_t{1} << 63;

}  // namespace

std::string image_cache_key(const std::string& content_hash, int64_t min_pixels, int64_t max_pixels) {
  return cat(content_hash, "/", min_pixels, "/", max_pixels);
}

std::vector<TokenKey> prompt_token_keys(std::span<const int32_t> ids, int32_t pad_id,
                                        std::span<const ImageTokens> images) {
  std::vector<TokenKey> keys(ids.size());
  size_t image = 0;
  int64_t index = 0;  // of the pad in its image
  uint64_t image_hash = images.empty() ? 0 : fnv1a(images[0].key);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] != pad_id) {
      keys[i] = static_cast<uint32_t>(ids[i]);
      continue;
    }
    while (image < images.size() && index >= images[image].tokens) {
      ++image;
      index = 0;
      if (image < images.size()) image_hash = fnv1a(images[image].key);
    }
    if (image >= images.size())
      fail(ErrorKind::kInvalidArgument, "prefix cache: the prompt has more image tokens than its images");
    keys[i] = mix(image_hash + 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(index + 1)) | kImageBit;
    ++index;
  }
  while (image < images.size() && index >= images[image].tokens) {
    ++image;
    index = 0;
  }
  if (image != images.size())
    fail(ErrorKind::kInvalidArgument, "prefix cache: the prompt has fewer image tokens than its images");
  return keys;
}

std::string prefix_model_key(const models::Model& model, const models::WeightOptions& weights) {
  return cat(static_cast<const void*>(&model), "|", model.folder(), "|text=",
             models::weight_type_name(weights.text), "|vision=", models::weight_type_name(weights.vision),
             "|activations=", weights.activations ? kernels::activations_name(*weights.activations) : "default");
}

PrefixCache::~PrefixCache() = default;

PrefixCache::Match PrefixCache::lookup(const std::string& model_key, std::span<const TokenKey> keys,
                                       int64_t limit) {
  Match m;
  if (budget_ == 0) return m;
  std::lock_guard lock(mutex_);
  limit = std::min<int64_t>(limit, static_cast<int64_t>(keys.size()));
  auto tree = trees_.find(model_key);
  if (tree != trees_.end() && limit > 0) {
    const int64_t B = tree->second.block_tokens;
    Node* node = &tree->second.root;
    Node* deepest = nullptr;
    while (m.tokens < limit) {
      const int64_t want = std::min(B, limit - m.tokens);
      Node* best = nullptr;
      int64_t best_len = 0;
      for (const auto& child : node->children) {
        const int64_t n = std::min<int64_t>(static_cast<int64_t>(child->keys.size()), want);
        int64_t same = 0;
        while (same < n && child->keys[same] == keys[m.tokens + same]) ++same;
        if (same > best_len) {
          best = child.get();
          best_len = same;
        }
      }
      if (best == nullptr) break;
      m.blocks.push_back(best->block);
      m.tokens += best_len;
      deepest = best;
      if (best_len < B) break;  // a part of this block: attach copies it
      node = best;
    }
    if (deepest) touch_path(deepest);
  }
  if (m.tokens > 0) {
    ++counts_.hits;
    counts_.hit_tokens += m.tokens;
  } else {
    ++counts_.misses;
  }
  return m;
}

void PrefixCache::insert(const std::string& model_key, std::span<const TokenKey> keys,
                         int64_t block_tokens, size_t block_bytes,
                         const std::function<models::KvBlockPtr(int64_t)>& block) {
  if (budget_ == 0 || keys.empty()) return;
  KANTU_CHECK(block_tokens > 0, "prefix cache: blocks of ", block_tokens, " tokens");
  std::lock_guard lock(mutex_);
  Tree& tree = trees_[model_key];
  if (tree.block_tokens != block_tokens || tree.block_bytes != block_bytes) {
    while (!tree.root.children.empty()) drop(tree.root.children.back().get());
    tree.block_tokens = block_tokens;
    tree.block_bytes = block_bytes;
  }
  const int64_t B = block_tokens;
  const int64_t n = static_cast<int64_t>(keys.size());
  Node* node = &tree.root;
  for (int64_t b = 0; b * B < n; ++b) {
    const std::span<const TokenKey> rows = keys.subspan(b * B, std::min(B, n - b * B));
    Node* next = nullptr;
    bool holds_more = false;
    for (const auto& child : node->children) {
      const auto& have = child->keys;
      if (have.size() >= rows.size() && std::equal(rows.begin(), rows.end(), have.begin())) {
        next = child.get();  // already held (a partial block: held with more after it)
        holds_more = have.size() > rows.size();
        break;
      }
      if (have.size() < rows.size() && std::equal(have.begin(), have.end(), rows.begin())) {
        // The end of an earlier sequence, continued here: this block holds more of it.
        // (A node shorter than a block has no children.)
        child->block = block(b);
        child->keys.assign(rows.begin(), rows.end());
        next = child.get();
        break;
      }
    }
    if (next == nullptr) {
      auto child = std::make_unique<Node>();
      child->parent = node;
      child->keys.assign(rows.begin(), rows.end());
      child->block = block(b);
      child->bytes = block_bytes;
      lru_.push_front(child.get());
      child->lru = lru_.begin();
      bytes_ += block_bytes;
      next = child.get();
      node->children.push_back(std::move(child));
    }
    node = next;
    if (holds_more) break;
  }
  touch_path(node);
  evict_over_budget();
}

void PrefixCache::touch_path(Node* deepest) {
  // Deepest first, so every node ends up more recent than the nodes that continue it.
  for (Node* n = deepest; n != nullptr && n->parent != nullptr; n = n->parent) {
    lru_.splice(lru_.begin(), lru_, n->lru);
  }
}

void PrefixCache::evict_over_budget() {
  while (bytes_ > budget_ && !lru_.empty()) {
    drop(lru_.back());  // a leaf (see touch_path)
  }
}

void PrefixCache::drop(Node* node) {
  while (!node->children.empty()) drop(node->children.back().get());
  lru_.erase(node->lru);
  bytes_ -= node->bytes;
  ++counts_.evictions;
  auto& siblings = node->parent->children;
  auto it = std::find_if(siblings.begin(), siblings.end(),
                         [&](const std::unique_ptr<Node>& c) { return c.get() == node; });
  KANTU_CHECK(it != siblings.end(), "prefix cache: a node its parent does not hold");
  siblings.erase(it);
}

PrefixCacheStats PrefixCache::stats() const {
  std::lock_guard lock(mutex_);
  PrefixCacheStats s = counts_;
  s.blocks = static_cast<int64_t>(lru_.size());
  s.bytes = bytes_;
  s.budget = budget_;
  return s;
}

void PrefixCache::clear() {
  std::lock_guard lock(mutex_);
  const int64_t evictions = counts_.evictions;  // clearing is not evicting
  for (auto& [key, tree] : trees_) {
    while (!tree.root.children.empty()) drop(tree.root.children.back().get());
  }
  trees_.clear();
  counts_.evictions = evictions;
}

}  // namespace kantu::runtime
