#include "runtime/stop.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace kantu::runtime {
namespace {

TEST(StopStrings, NoStopsPassesEverythingThrough) {
  StopStringMatcher m({});
  EXPECT_EQ(m.push("hello"), "hello");
  EXPECT_EQ(m.push(" world"), " world");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStrings, MatchInsideOnePieceDropsTheStopAndTheRest) {
  StopStringMatcher m({"END"});
  EXPECT_EQ(m.push("abcENDxyz"), "abc");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "END");
  EXPECT_EQ(m.push("more"), "");
}

TEST(StopStrings, MatchAcrossTokenBoundariesHoldsBackThePrefix) {
  StopStringMatcher m({"</answer>"});
  EXPECT_EQ(m.push("yes </"), "yes ");  // "</" could start the stop string
  EXPECT_EQ(m.push("ans"), "");
  EXPECT_EQ(m.push("wer> tail"), "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopStrings, HeldTextIsReleasedWhenItTurnsOutNotToMatch) {
  StopStringMatcher m({"STOP"});
  EXPECT_EQ(m.push("a ST"), "a ");
  EXPECT_EQ(m.push("ONE"), "STONE");
  EXPECT_EQ(m.push("S"), "");
  EXPECT_EQ(m.flush(), "S");
  EXPECT_FALSE(m.stopped());
}

TEST(StopStrings, EarliestOfSeveralStopsWins) {
  StopStringMatcher m({"bb", "a"});
  EXPECT_EQ(m.push("xbbya"), "x");
  EXPECT_EQ(m.matched(), "bb");
}

TEST(StopStrings, OverlappingPrefixesKeepTheLongestCandidate) {
  StopStringMatcher m({"aab"});
  EXPECT_EQ(m.push("xa"), "x");
  EXPECT_EQ(m.push("a"), "");   // "aa"
  EXPECT_EQ(m.push("a"), "a");  // "aaa": only the last "aa" can still start "aab"
  EXPECT_EQ(m.push("b!"), "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopStrings, MultiByteStopStrings) {
  StopStringMatcher m({"終わり"});
  EXPECT_EQ(m.push("はい終"), "はい");
  EXPECT_EQ(m.push("わり"), "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopStrings, EmptyStopStringIsRejected) {
  EXPECT_THROW(StopStringMatcher({"ok", ""}), Error);
}

}  // namespace
}  // namespace kantu::runtime
