// PTBLexer 3.4.1 as a PCRE2 rule table (see ptb_lexer.h for the matching semantics).
//
// Translation notes (JFlex -> PCRE2):
// - The lexer is %caseless: literal letters match either case, character classes do
//   not. So literal runs are wrapped in (?i:...) and classes are left case-sensitive
//   (which is why the grammar writes [A]z, [M]iss, ...).
// - [:letter:] = \p{L}, [:digit:] = \p{Nd}, [:uppercase:] = \p{Lu}, [^] = [\s\S],
//   `.` (no newline) is the final "untokenizable: delete" fallback.
// - Each rule is matched with pcre2_dfa_match, which returns every match length at a
//   position (longest first): that gives JFlex's longest match and lets a trailing
//   context be tried after each possible head length.
#include "eval/ptb_lexer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cctype>
#include <cstdint>
#include <map>
#include <memory>

#include "core/error.h"

namespace kantu::eval {
namespace {

// ---- pattern vocabulary (names follow the JFlex macros) ----------------------------

std::string g(const std::string& s) { return "(?:" + s + ")"; }

const std::string SGML = g(
    R"(<(?:[!?][A-Za-z\-][^>\r\n]*|[A-Za-z][A-Za-z0-9_:.\-]*(?:[ ]+(?:[A-Za-z][A-Za-z0-9_:.\-]*|)"
    R"([A-Za-z][A-Za-z0-9_:.\-]*[ ]*=[ ]*(?:'[^']*'|"[^"]*")))*[ ]*/?|/[A-Za-z][A-Za-z0-9_:.\-]*)[ ]*>)");
const std::string SPMDASH = g(R"(&(?i:MD|mdash|ndash);|[\x{96}\x{97}\x{2013}\x{2014}\x{2015}])");
const std::string SPAMP = "(?i:&amp;)";
const std::string SPPUNC = R"(&(?:(?i:HT|TL|UR|LR|QC|QL|QR|odq|cdq)|#[0-9]+);)";
const std::string SPLET = R"(&[aeiouAEIOU](?i:acute|grave|uml);)";
const std::string SPACE = R"([ \t\x{A0}\x{2000}-\x{200A}\x{3000}])";
const std::string NEWLINE = g(R"(\r|\r?\n|\x{2028}|\x{2029}|\x{0B}|\x{0C}|\x{85})");
const std::string SPACENL = g(SPACE + "|" + NEWLINE);
const std::string SPACENLS = g(SPACENL + "+");
const std::string SENTEND = g(SPACENL + g(SPACENL + R"(|\p{Lu}|)" + SGML));
const std::string DIGIT = R"([\p{Nd}\x{7C0}-\x{7C9}])";
const std::string DATE = DIGIT + "{1,2}[\\-/]" + DIGIT + "{1,2}[\\-/]" + DIGIT + "{2,4}";
const std::string NUM = g(DIGIT + "+|" + DIGIT + R"(*(?:[.:,\x{AD}\x{66B}\x{66C}])" + DIGIT + "+)+");
const std::string NUMBER = "[\\-+]?" + NUM;
const std::string SUBSUPNUM =
    R"([\x{207A}\x{207B}\x{208A}\x{208B}]?(?:[\x{2070}\x{B9}\x{B2}\x{B3}\x{2074}-\x{2079}]+|[\x{2080}-\x{2089}]+))";
const std::string FRAC = "(?:" + DIGIT + R"({1,4}[\- \x{A0}])?)" + DIGIT +
                         R"({1,4}(?:\\?/|\x{2044}))" + DIGIT + "{1,4}";
const std::string FRAC2 = R"([\x{BC}\x{BD}\x{BE}\x{2153}-\x{215E}])";
const std::string DOLSIGN = R"((?:[A-Z]*\$|#))";
const std::string DOLSIGN2 =
    R"([\x{A2}\x{A3}\x{A4}\x{A5}\x{80}\x{20A0}\x{20AC}\x{60B}\x{E3F}\x{20A4}\x{FFE0}\x{FFE1}\x{FFE5}\x{FFE6}])";
// Letters JFlex's [:letter:] missed, per the grammar (combining marks, soft hyphen...).
const std::string LETTER_EXTRA =
    R"(\x{AD}\x{237}-\x{24F}\x{2C2}-\x{2C5}\x{2D2}-\x{2DF}\x{2E5}-\x{2FF}\x{300}-\x{36F})"
    R"(\x{370}-\x{37D}\x{384}\x{385}\x{3CF}\x{3F6}\x{3FC}-\x{3FF}\x{483}-\x{487}\x{4CF})"
    R"(\x{4F6}-\x{4FF}\x{510}-\x{525}\x{55A}-\x{55F}\x{591}-\x{5BD}\x{5BF}\x{5C1}\x{5C2})"
    R"(\x{5C4}\x{5C5}\x{5C7}\x{615}-\x{61A}\x{63B}-\x{63F}\x{64B}-\x{65E}\x{670}\x{6D6}-\x{6EF})"
    R"(\x{6FA}-\x{6FF}\x{70F}\x{711}\x{730}-\x{74F}\x{750}-\x{77F}\x{7A6}-\x{7B1}\x{7CA}-\x{7F5})"
    R"(\x{7FA}\x{900}-\x{903}\x{93C}\x{93E}-\x{94E}\x{951}-\x{955}\x{962}-\x{963}\x{981}-\x{983})"
    R"(\x{9BC}-\x{9C4}\x{9C7}\x{9C8}\x{9CB}-\x{9CD}\x{9D7}\x{9E2}\x{9E3}\x{A01}-\x{A03}\x{A3C})"
    R"(\x{A3E}-\x{A4F}\x{A81}-\x{A83}\x{ABC}-\x{ACF}\x{B82}\x{BBE}-\x{BC2}\x{BC6}-\x{BC8})"
    R"(\x{BCA}-\x{BCD}\x{C01}-\x{C03}\x{C3E}-\x{C56}\x{D3E}-\x{D44}\x{D46}-\x{D48}\x{E30}-\x{E3A})"
    R"(\x{E47}-\x{E4E}\x{EB1}-\x{EBC}\x{EC8}-\x{ECD})";
const std::string LETTER = g("[\\p{L}" + LETTER_EXTRA + "]|" + SPLET);
const std::string LD = g(LETTER + "|" + DIGIT);
const std::string WORD = LETTER + LD + "*(?:[.!?]" + LETTER + LD + "*)*";
const std::string FILENAME_EXT =
    "(?i:bat|bmp|c|class|cgi|cpp|dll|doc|docx|exe|gif|gz|h|htm|html|jar|java|jpeg|jpg|mov|mp3|"
    "pdf|php|pl|png|ppt|ps|py|sql|tar|txt|wav|x|xml|zip)";
const std::string FILENAME = LD + "+(?:\\." + LD + "+)*\\." + FILENAME_EXT;
const std::string APOS = R"((?:['\x{92}\x{2019}]|(?i:&apos;)))";
const std::string APOSETC = g(APOS + R"(|[`\x{91}\x{2018}\x{201B}])");
const std::string ALNUM = R"([\p{L}\p{Nd}])";
const std::string HYPHEN = R"([\-_\x{58A}\x{2010}\x{2011}])";
const std::string THING_PART = "(?:[dDoOlL]" + APOSETC + ALNUM + ")?" + ALNUM + "+";
const std::string THING = THING_PART + g(HYPHEN + THING_PART) + "*";
const std::string THINGA = "[A-Z]+(?:(?:[+&]|" + SPAMP + ")[A-Z]+)+";
const std::string THING3 =
    R"([A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\?/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2})";
const std::string ACRO_TAIL =
    R"(|(?i:Canada|Sino|Korean|EU|Japan|non)-(?i:U\.S)|(?i:U\.S\.-)(?i:U\.K|U\.S\.S\.R))";
const std::string ACRO = g(R"([A-Za-z](?:\.[A-Za-z])*)" + ACRO_TAIL);
const std::string ACRO2 = g(R"([A-Za-z](?:\.[A-Za-z])+)" + ACRO_TAIL);
const std::string HTHING =
    R"([A-Za-z0-9][A-Za-z0-9.,\x{AD}]*(?:-(?:[A-Za-z0-9\x{AD}]+|)" + ACRO2 + R"(\.))+)";
const std::string REDAUX = APOS + "(?:[msdMSD]|(?i:re|ve|ll))";
const std::string SWORD = R"([A-Za-z\x{AD}]*[A-MO-Za-mo-z]\x{AD}*)";
const std::string SREDAUX = "(?i:n)" + APOSETC + "(?i:t)";
const std::string APOWORD = g(
    APOS + "(?i:n)" + APOS + "?|[lLdDjJ]" + APOS + "|(?i:Dunkin)" + APOS + "|(?i:somethin)" + APOS +
    "|(?i:ol)" + APOS + "|" + APOS + "(?i:em)|[A-HJ-XZn]" + APOSETC + R"(\p{L}{2}\p{L}*|)" + APOS +
    "[2-9]0(?i:s)|" + APOS + "(?i:till?)|" + R"(\p{L}\p{L}*[aeiouyAEIOUY])" + APOSETC +
    R"([aeiouA-Z]\p{L}*|)" + APOS +
    R"((?i:cause)|(?i:cont'd\.?|'twas|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l)|(?i:O))" +
    APOSETC + "(?i:o)");
const std::string APOWORD2 = "(?i:y)" + APOS;
const std::string FULLURL =
    R"((?i:https?://)[^ \t\n\f\r"<>|(){}]+[^ \t\n\f\r"<>|.!?(){},\-])";
// Note `,-_` in the second class is a character range in the original grammar too.
const std::string LIKELYURL =
    R"((?:(?:(?i:www)\.(?:[^ \t\n\f\r"<>|.!?(){},]+\.)+[a-zA-Z]{2,4})|)"
    R"((?:(?:[^ \t\n\f\r"`'<>|.!?(){},-_$]+\.)+(?i:com|net|org|edu))))"
    R"((?:/[^ \t\n\f\r"<>|()]+[^ \t\n\f\r"<>|.!?(){},\-])?)";
const std::string EMAIL =
    R"((?:(?i:&lt;)|<)?[a-zA-Z0-9][^ \t\n\f\r"<>|()\x{A0}{}]*@(?:[^ \t\n\f\r"<>|(){}.\x{A0}]+\.)*)"
    R"((?:[^ \t\n\f\r"<>|(){}.\x{A0}]+)(?:(?i:&gt;)|>)?)";
const std::string TWITTER = g("@[a-zA-Z_][a-zA-Z_0-9]*|#" + LETTER + "+");
const std::string ABMONTH = "(?i:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)";
const std::string ABDAYS = "(?i:Mon|Tue|Tues|Wed|Thu|Thurs|Fri)";
const std::string ABSTATE =
    "(?:(?i:Ala|Ariz)|A(?i:z)|A(?i:rk)|(?i:Calif|Colo|Conn|Ct|Dak)|D(?i:el)|(?i:Fla|Ga)|I(?i:ll)|"
    "(?i:Ind|Kans?|Ky)|L(?i:a)|M(?i:ass)|(?i:Md|Mich|Minn)|M(?i:iss)|(?i:Mo|Mont|Neb|Nev|Okla)|"
    "O(?i:re)|P(?i:a)|(?i:Penn|Tenn)|T(?i:ex)|(?i:Va|Vt)|W(?i:ash)|(?i:Wisc?|Wyo))";
const std::string ABCOMP =
    "(?:(?i:Inc|Cos?|Corp)|(?i:Pp?t)[ye](?i:s)?|(?i:Ltd|Plc|Rt|Bancorp|Bhd|Assn|Univ|Intl|Sys))";
const std::string ABNUM = "(?i:tel|est|ext|sq)";
const std::string ABPTIT = R"((?i:Jr|Sr|Bros|(?:Ed|Ph)\.D|Blvd|Rd|Esq))";
const std::string ABBREV1 = g(ABMONTH + "|" + ABDAYS + "|" + ABSTATE + "|" + ABCOMP + "|" + ABNUM +
                              "|" + ABPTIT + "|(?i:etc|al|seq|Bldg)") +
                            "\\.";
const std::string ABTITLE =
    "(?:(?i:Mr|Mrs|Ms)|M(?i:iss)|(?i:Drs?|Profs?|Sens?|Reps?|Attys?|Lt|Col|Gen|Messrs|Govs?|Adm|"
    "Rev|Maj|Sgt|Cpl|Pvt|Capt|Ste?|Ave|Pres|Lieut|Hon|Brig|Co?mdr|Pfc|Spc|Supts?|Det|Mt|Ft|Adj|"
    "Adv|Asst|Assoc|Ens|Insp|Mlle|Mme|Msgr|Sfc))";
const std::string ABCOMP2 = "(?:(?i:Invt|Elec|Natl)|(?i:M)[ft](?i:g)|(?i:Dept))";
const std::string ABBREV4 =
    g(ABTITLE + R"(|(?i:vs|Alex|Wm|Jos|Cie|a\.k\.a|cf|TREAS|Ph)|)" + ACRO + "|" + ABCOMP2);
const std::string ABBREV2 = ABBREV4 + "\\.";
const std::string ACRONYM = ACRO + "\\.";
const std::string ABBREV3 = R"((?i:ca|figs?|prop|nos?|art|bldg|prop|pp|op)\.)";
const std::string PHONE =
    R"((?:\([0-9]{2,3}\)[ \x{A0}]?|(?:\+\+?)?(?:[0-9]{2,4}[\- \x{A0}])?[0-9]{2,4}[\- \x{A0}]))"
    R"([0-9]{3,4}[\- \x{A0}]?[0-9]{3,5}|(?:(?:\+\+?)?[0-9]{2,4}\.)?[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{3,5})";
const std::string LDOTS = R"(\.{3,5}|(?:\.[ \x{A0}]){2,4}\.|[\x{85}\x{2026}])";
const std::string INSENTP = R"([,;:\x{3001}])";
const std::string QUOTES =
    APOS + R"(|''|[`\x{2018}\x{2019}\x{201A}\x{201B}\x{201C}\x{201D}\x{91}\x{92}\x{93}\x{94})"
           R"(\x{201E}\x{201F}\x{2039}\x{203A}\x{AB}\x{BB}]{1,2})";
const std::string DBLQUOT = R"((?:"|(?i:&quot;)))";
const std::string TBSPEC = R"(-(?i:RRB|LRB|RCB|LCB|RSB|LSB)-|(?i:C\.D\.s|pro-|anti-)|)"
                           R"((?i:S)(?:&|(?i:&amp;))(?i:P-500)|(?i:S)(?:&|(?i:&amp;))(?i:Ls)|)"
                           "(?i:Cap)" + APOS + "(?i:n)|(?i:c)" + APOS + "(?i:est)";
const std::string TBSPEC2 = APOS + "[0-9][0-9]";
const std::string SMILEY = R"([<>]?[:;=][\-o*']?[()DPdpO\\{@|\[\]])";
// The first alternative has an escaping slip in the grammar (`\.\[` then literals); kept.
const std::string ASIANSMILEY =
    R"([\^x=~<>]\.\[\^(?i:x)=~<>\]|[\-\^x=~<>']_[\-\^x=~<>']|\([\-\^x=~<>'][_.]?[\-\^x=~<>']\)|)"
    R"(\([\^x=~<>']-[\^x=~<>'`]\))";
const std::string MISCSYMBOL =
    R"([+%&~\^|\\\x{A6}\x{A7}\x{A8}\x{A9}\x{AC}\x{AE}\x{AF}\x{B0}-\x{B3}\x{B4}-\x{BA}\x{D7}\x{F7})"
    R"(\x{387}\x{5BE}\x{5C0}\x{5C3}\x{5C6}\x{5F3}\x{5F4}\x{600}-\x{603}\x{606}-\x{60A}\x{60C})"
    R"(\x{614}\x{61B}\x{61E}\x{66A}\x{66D}\x{703}-\x{70D}\x{7F6}\x{7F7}\x{7F8}\x{964}\x{965})"
    R"(\x{E4F}\x{1FBD}\x{2016}\x{2017}\x{2020}-\x{2023}\x{2030}-\x{2038}\x{203B}\x{203E}-\x{2042})"
    R"(\x{2044}\x{207A}-\x{207F}\x{208A}-\x{208E}\x{2100}-\x{214F}\x{2190}-\x{21FF}\x{2200}-\x{2BFF})"
    R"(\x{3012}\x{30FB}\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF20}\x{FF3B}-\x{FF40}\x{FF5B}-\x{FF65}])";
const std::string ACRONYM_FOLLOWERS =
    "(?:A(?i:bout)|A(?i:ccording)|A(?i:dditionally)|A(?i:fter)|A(?i:n)|A|A(?i:s)|A(?i:t)|B(?i:ut)|"
    "E(?i:arlier)|H(?i:e)|H(?i:er)|H(?i:ere)|H(?i:owever)|I(?i:f)|I(?i:n)|I(?i:t)|L(?i:ast)|"
    "M(?i:any)|M(?i:ore)|M(?i:r\\.)|M(?i:s\\.)|N(?i:ow)|O(?i:nce)|O(?i:ne)|O(?i:ther)|O(?i:ur)|"
    "S(?i:he)|S(?i:ince)|S(?i:o)|S(?i:ome)|S(?i:uch)|T(?i:hat)|T(?i:he)|T(?i:heir)|T(?i:hen)|"
    "T(?i:here)|T(?i:hese)|T(?i:hey)|T(?i:his)|W(?i:e)|W(?i:hen)|W(?i:hile)|W(?i:hat)|Y(?i:et)|"
    "Y(?i:ou)|" + SGML + ")";

// ---- rules -------------------------------------------------------------------------

enum class Action {
  kPlain,          // the matched text
  kSoftHyphens,    // text without U+00AD (or "-" if nothing is left)
  kPushback,       // text minus its last `arg` characters, which are lexed again
  kSpacesToNbsp,   // SGML, fractions: spaces become U+00A0
  kDash,           // "--"
  kAmp,            // &amp; -> &
  kQuoteLeft,      // LaTeX quotes, probably an opening quote
  kQuoteRight,     // LaTeX quotes, probably a closing quote
  kFraction,       // ¼ ½ ¾ ⅓ ⅔ -> 1/4 ...
  kCurrency,       // ¢ -> cents, £ -> #, euro & co -> $
  kAcronym,        // "I." -> "I" + "."; "U.S." -> "U.S." + "."
  kPeriodAgain,    // token keeps its period, which is also lexed again
  kPhone,          // spaces to U+00A0 and parentheses escaped
  kParens,         // parentheses escaped inside the token
  kLiteral,        // the fixed text `literal`
  kHyphens,        // 3-4 hyphens -> "--"
  kEllipsis,       // "..."
  kIgnore,         // whitespace and the like
  kNewline,        // *NL*
};

struct RuleSpec {
  std::string head;
  std::string trail;  // empty = no trailing context
  Action action;
  int arg = 0;
  const char* literal = "";
};

std::vector<RuleSpec> rule_specs() {
  using A = Action;
  return {
      {"(?i:c)[+][+]", "", A::kPlain},
      {"(?i:c|f)#", "", A::kPlain},
      {"(?i:cannot)", "", A::kPushback, 3},
      {"(?i:'twas)", "", A::kPushback, 3},
      {"(?i:'tis)", "", A::kPushback, 2},
      {"(?i:gonna|gotta|lemme|gimme|wanna)", "", A::kPushback, 2},
      {SGML, "", A::kSpacesToNbsp},
      {SPMDASH, "", A::kDash},
      {SPAMP, "", A::kAmp},
      {SPPUNC, "", A::kPlain},
      {WORD, REDAUX, A::kSoftHyphens},
      {SWORD, SREDAUX, A::kSoftHyphens},
      {WORD, "", A::kSoftHyphens},
      {APOWORD, "", A::kPlain},
      {APOWORD2, R"(\p{L})", A::kPlain},
      {FULLURL, "", A::kPlain},
      {LIKELYURL, "", A::kPlain},
      {EMAIL, "", A::kPlain},
      {TWITTER, "", A::kPlain},
      {REDAUX, "[^A-Za-z]", A::kQuoteRight},
      {SREDAUX, "[^A-Za-z]", A::kQuoteRight},
      {DATE, "", A::kPlain},
      {NUMBER, "", A::kSoftHyphens},
      {SUBSUPNUM, "", A::kPlain},
      {FRAC, "", A::kSpacesToNbsp},  // <YyTraditionalTreebank3> (strictTreebank3 is off)
      {FRAC2, "", A::kFraction},
      {TBSPEC, "", A::kAmp},
      {THING3, "", A::kPlain},
      {DOLSIGN, "", A::kPlain},
      {DOLSIGN2, "", A::kCurrency},
      {ACRONYM, SPACENLS + ACRONYM_FOLLOWERS + SPACENL, A::kAcronym},
      {ABBREV3, SPACENL + R"(?\p{Nd})", A::kPlain},
      {"(?:(?i:pt)[eyEY]|(?i:co))\\.", SPACE + "(?i:ltd|lim)", A::kPlain},
      {ABBREV1, SENTEND, A::kPeriodAgain},
      {ABBREV1, R"([\s\S][\s\S])", A::kPlain},
      {ABBREV1, "", A::kPeriodAgain},
      {ABBREV2, "", A::kPlain},
      {ABBREV4, SPACE, A::kPlain},
      {ACRO, SPACENL, A::kPlain},
      {TBSPEC2, SPACENL, A::kPlain},
      {FILENAME, g(SPACENL + "|[.?!,]"), A::kPlain},
      {WORD + "\\.", INSENTP, A::kSoftHyphens},
      {PHONE, "", A::kPhone},
      {DBLQUOT, "[A-Za-z0-9$]", A::kQuoteLeft},
      {DBLQUOT, "", A::kQuoteRight},
      {R"(\x{7F})", "", A::kIgnore},
      {"<|(?i:&lt;)", "", A::kLiteral, 0, "<"},
      {">|(?i:&gt;)", "", A::kLiteral, 0, ">"},
      {SMILEY, "[^A-Za-z0-9]", A::kParens},
      {ASIANSMILEY, "", A::kParens},
      {R"(\{)", "", A::kLiteral, 0, "-LCB-"},
      {R"(\})", "", A::kLiteral, 0, "-RCB-"},
      {R"(\[)", "", A::kLiteral, 0, "-LSB-"},
      {R"(\])", "", A::kLiteral, 0, "-RSB-"},
      {R"(\()", "", A::kLiteral, 0, "-LRB-"},
      {R"(\))", "", A::kLiteral, 0, "-RRB-"},
      {R"(\-+)", "", A::kHyphens},
      {LDOTS, "", A::kEllipsis},
      {"@+|#+|_+", "", A::kPlain},
      {R"(\*+|(?:\\\*){1,3})", "", A::kPlain},
      {INSENTP, "", A::kPlain},
      {"[?!]+", "", A::kPlain},
      {R"([.\x{A1}\x{BF}\x{37E}\x{589}\x{61F}\x{6D4}\x{700}-\x{702}\x{7FA}\x{3002}])", "",
       A::kPlain},
      {"=", "", A::kPlain},
      {"/", "", A::kPlain},
      {HTHING + "\\.", INSENTP, A::kSoftHyphens},
      {HTHING, "", A::kSoftHyphens},
      {THING + "\\.", INSENTP, A::kPlain},
      {THING, "", A::kPlain},
      {THINGA + "\\.", INSENTP, A::kAmp},
      {THINGA, "", A::kAmp},
      {"'", R"([A-Za-z][^ \t\n\r\x{A0}])", A::kQuoteLeft},
      {REDAUX, "", A::kQuoteRight},
      {SREDAUX, "", A::kQuoteRight},
      {QUOTES, "", A::kQuoteRight},
      {"<<|>>", "", A::kPlain},
      {MISCSYMBOL, "", A::kPlain},
      {SPACE + R"(+|\x{0}|[\x{200B}\x{200E}-\x{200F}\x{FEFF}])", "", A::kIgnore},
      {NEWLINE, "", A::kNewline},
      {"(?i:&nbsp;)", "", A::kIgnore},
  };
}

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
using Code = std::unique_ptr<pcre2_code, CodeDeleter>;

Code compile(const std::string& pattern, uint32_t extra_options = PCRE2_NO_START_OPTIMIZE) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | extra_options, &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    fail(ErrorKind::kInternal, "PTB lexer rule does not compile at offset ", offset, ": ",
         reinterpret_cast<const char*>(message), " in ", pattern);
  }
  return Code(code);
}

// Which first bytes can start a match. ASCII bytes are probed exactly with a partial
// match of that one character; other lead bytes use PCRE2's start bitmap when it has
// one, else are all allowed.
std::bitset<256> first_bytes(const pcre2_code* code) {
  std::bitset<256> bits;
  const uint8_t* bitmap = nullptr;
  if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP, &bitmap) == 0 && bitmap != nullptr) {
    for (int b = 128; b < 256; ++b)
      if (bitmap[b / 8] & (1u << (b % 8))) bits.set(static_cast<size_t>(b));
  } else {
    for (int b = 128; b < 256; ++b) bits.set(static_cast<size_t>(b));
  }
  pcre2_match_data* data = pcre2_match_data_create(8, nullptr);
  std::array<int, 4096> workspace{};
  for (int b = 0; b < 128; ++b) {
    char c = static_cast<char>(b);
    int rc = pcre2_dfa_match(code, reinterpret_cast<PCRE2_SPTR>(&c), 1, 0,
                             PCRE2_ANCHORED | PCRE2_PARTIAL_HARD, data, nullptr, workspace.data(),
                             workspace.size());
    if (rc >= 0 || rc == PCRE2_ERROR_PARTIAL) bits.set(static_cast<size_t>(b));
  }
  pcre2_match_data_free(data);
  return bits;
}

struct Rule {
  Code probe;  // head(?=trail), anchored and JIT-compiled: a fast "is there any match here?"
  Code head;
  Code trail;  // null = none
  std::bitset<256> first;
  Action action;
  int arg;
  std::string literal;
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = [] {
    std::vector<Rule> out;
    for (const RuleSpec& spec : rule_specs()) {
      // The probe asks for the trailing context too (as a lookahead), so rules whose
      // context is absent cost one JIT call.
      std::string probe = "(?:" + spec.head + ")";
      if (!spec.trail.empty()) probe += "(?=" + spec.trail + ")";
      Rule rule{compile(probe, PCRE2_ANCHORED | PCRE2_NO_START_OPTIMIZE), compile(spec.head), nullptr,
                {}, spec.action, spec.arg, spec.literal};
      pcre2_jit_compile(rule.probe.get(), PCRE2_JIT_COMPLETE);  // falls back to the interpreter
      if (!spec.trail.empty()) rule.trail = compile(spec.trail);
      rule.first = first_bytes(rule.head.get());
      out.push_back(std::move(rule));
    }
    return out;
  }();
  return table;
}

// Per-thread DFA scratch.
struct Scratch {
  pcre2_match_data* data = pcre2_match_data_create(128, nullptr);
  pcre2_match_data* probe_data = pcre2_match_data_create(1, nullptr);
  pcre2_match_context* probe_context = [] {
    pcre2_match_context* c = pcre2_match_context_create(nullptr);
    pcre2_set_match_limit(c, 100000);  // beyond this the DFA decides
    return c;
  }();
  std::array<int, 8192> workspace{};
  ~Scratch() {
    pcre2_match_data_free(data);
    pcre2_match_data_free(probe_data);
    pcre2_match_context_free(probe_context);
  }
};

// False only when `code` certainly has no match anchored at `pos` (DFA matching is
// slow on the big alternations; most rules fail at most positions).
bool may_match(const pcre2_code* probe, std::string_view s, size_t pos, Scratch& scratch) {
  int rc = pcre2_match(probe, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos,
                       PCRE2_NO_UTF_CHECK, scratch.probe_data, scratch.probe_context);
  return rc != PCRE2_ERROR_NOMATCH;
}

// All match lengths of `code` anchored at `pos` in s[0, end), longest first.
// With `partial`, returns -1 when a match might continue past `end`.
int dfa_raw(const pcre2_code* code, std::string_view s, size_t end, size_t pos, Scratch& scratch,
            std::vector<size_t>& lengths, bool partial) {
  lengths.clear();
  int rc = pcre2_dfa_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()), end, pos,
                           PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK | (partial ? PCRE2_PARTIAL_HARD : 0),
                           scratch.data, nullptr, scratch.workspace.data(),
                           scratch.workspace.size());
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  if (rc == PCRE2_ERROR_PARTIAL) return -1;
  if (rc < 0) fail(ErrorKind::kInternal, "PTB lexer: pcre2_dfa_match failed with code ", rc);
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(scratch.data);
  uint32_t pairs = rc == 0 ? pcre2_get_ovector_count(scratch.data) : static_cast<uint32_t>(rc);
  for (uint32_t i = 0; i < pairs; ++i) lengths.push_back(ov[2 * i + 1] - ov[2 * i]);
  return static_cast<int>(lengths.size());
}

// All match lengths of `code` anchored at `pos`, longest first; empty if none.
// PCRE2's DFA matcher does work proportional to the subject length it is given, so it
// first gets a window; a match that could run past the window's end is redone on everything.
int dfa_lengths(const pcre2_code* code, std::string_view s, size_t pos, Scratch& scratch,
                std::vector<size_t>& lengths) {
  constexpr size_t kWindow = 256;
  if (s.size() - pos > kWindow) {
    size_t end = pos + kWindow;
    while (end < s.size() && (static_cast<uint8_t>(s[end]) & 0xC0) == 0x80) ++end;
    int n = dfa_raw(code, s, end, pos, scratch, lengths, /*partial=*/true);
    if (n >= 0) return n;
  }
  return dfa_raw(code, s, s.size(), pos, scratch, lengths, /*partial=*/false);
}

// ---- input preparation -------------------------------------------------------------

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes one code point at s[i]; returns U+FFFD and advances one byte on bad input.
uint32_t decode_utf8(std::string_view s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  uint32_t cp = b0 & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += len;
  return cp;
}

// A character outside the BMP is two UTF-16 units to JFlex, neither of them matched by
// any class: it is stood in for by two private-use characters (which behave the same)
// and restored if a token (an e-mail address, a URL) happens to contain it.
constexpr uint32_t kHighStandIn = 0xE000, kLowStandIn = 0xE001;

struct Prepared {
  std::string text;
  std::map<size_t, uint32_t> astral;  // offset of the stand-in pair -> original code point
};

Prepared prepare(std::string_view in) {
  Prepared p;
  p.text.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    uint32_t cp = decode_utf8(in, i);
    if (cp > 0xFFFF) {
      p.astral[p.text.size()] = cp;
      append_utf8(p.text, kHighStandIn);
      append_utf8(p.text, kLowStandIn);
    } else {
      append_utf8(p.text, cp);
    }
  }
  return p;
}

std::string restore_astral(const Prepared& p, size_t begin, size_t end) {
  std::string out;
  auto it = p.astral.lower_bound(begin);
  size_t pos = begin;
  for (; it != p.astral.end() && it->first < end; ++it) {
    out.append(p.text, pos, it->first - pos);
    append_utf8(out, it->second);
    pos = std::min(end, it->first + 6);
  }
  out.append(p.text, pos, end - pos);
  return out;
}

// ---- actions -----------------------------------------------------------------------

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

void replace_amp_entity(std::string& s) {
  for (size_t pos = 0; (pos = s.find('&', pos)) != std::string::npos; ++pos) {
    if (s.size() - pos >= 5) {
      std::string word = s.substr(pos + 1, 4);
      for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (word == "amp;") s.erase(pos + 1, 4);
    }
  }
}

std::string latex_quotes(std::string s, bool probably_left) {
  if (probably_left) {
    replace_all(s, "&apos;", "`");
    replace_all(s, "'", "`");
    replace_all(s, "\"", "``");
    replace_all(s, "&quot;", "``");
  } else {
    replace_all(s, "&apos;", "'");
    replace_all(s, "\"", "''");
    replace_all(s, "&quot;", "''");
  }
  for (const char* left : {"\u0091", "\u2018", "\u201B", "\u2039"}) replace_all(s, left, "`");
  for (const char* right : {"\u0092", "\u2019", "\u203A"}) replace_all(s, right, "'");
  for (const char* left : {"\u0093", "\u201C", "\u00AB"}) replace_all(s, left, "``");
  for (const char* right : {"\u0094", "\u201D", "\u00BB"}) replace_all(s, right, "''");
  return s;
}

std::string apply(const Rule& rule, std::string text) {
  switch (rule.action) {
    case Action::kSoftHyphens:
      replace_all(text, "\u00AD", "");
      return text.empty() ? "-" : text;
    case Action::kSpacesToNbsp:
      replace_all(text, " ", "\u00A0");
      return text;
    case Action::kDash: return "--";
    case Action::kAmp: replace_amp_entity(text); return text;
    case Action::kQuoteLeft: return latex_quotes(std::move(text), true);
    case Action::kQuoteRight: return latex_quotes(std::move(text), false);
    case Action::kFraction:
      replace_all(text, "\u00BC", "1/4");
      replace_all(text, "\u00BD", "1/2");
      replace_all(text, "\u00BE", "3/4");
      replace_all(text, "\u2153", "1/3");
      replace_all(text, "\u2154", "2/3");
      return text;
    case Action::kCurrency:
      replace_all(text, "\u00A2", "cents");
      replace_all(text, "\u00A3", "#");
      for (const char* c : {"\u0080", "\u00A4", "\u20A0", "\u20AC"}) replace_all(text, c, "$");
      return text;
    case Action::kPhone:
      replace_all(text, " ", "\u00A0");
      [[fallthrough]];
    case Action::kParens:
      replace_all(text, "(", "-LRB-");
      replace_all(text, ")", "-RRB-");
      return text;
    case Action::kLiteral: return rule.literal;
    case Action::kHyphens: return text.size() >= 3 && text.size() <= 4 ? "--" : text;
    case Action::kEllipsis: return "...";
    default: return text;
  }
}

}  // namespace

std::vector<PtbToken> ptb_lex(std::string_view input) {
  const std::vector<Rule>& table = rules();
  thread_local Scratch scratch;
  thread_local std::vector<size_t> heads, trails;
  Prepared prepared = prepare(input);
  std::string_view s = prepared.text;

  std::vector<PtbToken> tokens;
  size_t pos = 0;
  while (pos < s.size()) {
    const uint8_t first = static_cast<uint8_t>(s[pos]);
    size_t best_total = 0, best_head = 0;
    const Rule* best = nullptr;
    for (const Rule& rule : table) {
      if (!rule.first.test(first)) continue;
      if (!may_match(rule.probe.get(), s, pos, scratch)) continue;
      if (dfa_lengths(rule.head.get(), s, pos, scratch, heads) == 0) continue;
      size_t total = 0, head = 0;
      if (!rule.trail) {
        total = head = heads[0];
      } else {
        for (size_t h : heads) {
          if (h == 0) continue;
          if (dfa_lengths(rule.trail.get(), s, pos + h, scratch, trails) == 0) continue;
          if (h + trails[0] > total) {
            total = h + trails[0];
            head = h;
          }
        }
      }
      if (head > 0 && total > best_total) {
        best_total = total;
        best_head = head;
        best = &rule;
      }
    }
    if (best == nullptr) {  // JFlex's `.`: untokenizable, deleted (with a warning there)
      decode_utf8(s, pos);
      continue;
    }
    size_t consumed = best_head;
    switch (best->action) {
      case Action::kIgnore: break;
      case Action::kNewline: tokens.push_back({"", true}); break;
      case Action::kPushback:
        consumed = best_head - static_cast<size_t>(best->arg);
        tokens.push_back({restore_astral(prepared, pos, pos + consumed), false});
        break;
      case Action::kAcronym:
        consumed = best_head - 1;
        tokens.push_back(
            {restore_astral(prepared, pos, pos + (best_head == 2 ? consumed : best_head)), false});
        break;
      case Action::kPeriodAgain:
        consumed = best_head - 1;
        tokens.push_back({restore_astral(prepared, pos, pos + best_head), false});
        break;
      default:
        tokens.push_back({apply(*best, restore_astral(prepared, pos, pos + best_head)), false});
    }
    pos += consumed;
  }
  return tokens;
}

}  // namespace kantu::eval
