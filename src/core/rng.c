/* Philox4x32-10 streams, uniforms and ziggurat normals: see include/iclsweep/core/rng.h.
 *
 * The round function and key schedule follow Random123's philox.h (round, then bump the key
 * between rounds; ten rounds); tests/unit/test_rng.c checks the authors' known-answer vectors.
 *
 * Speed comes from blocks: every draw takes its words from the generator's buffer, which is
 * refilled GROUP Philox blocks at a time (AVX2 when the machine has it, else SSE2, which every
 * x86-64 has; a portable loop elsewhere). The buffer only ever holds words of the stream at their
 * own positions and the generator's position is the first word not handed out, so a fill in one
 * call, a fill in pieces and a loop of single draws give the same numbers, and a loop that mixes
 * kinds of draws (a word of the concept model: normals, uniforms, coins) computes each block
 * once. The
 * kernels are integer arithmetic only, so no instruction set gives other bits. */
#include "iclsweep/core/rng.h"

#include <math.h>
#include <string.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Ziggurat tables (256 strips of area V under exp(-x^2/2)), printed by bench/rng/zig_tables.py
 * in 60-digit arithmetic as hex floats: the same bits everywhere, nothing computed at start-up.
 * zig_w[s * 256 + i] = (-1)^s X[i] / 2^52 (strip i's width, scaled for a 52-bit integer, with
 * sign s: indexing by a word's bits 0-8 gives strip and sign without a branch), zig_k[i] =
 * floor(2^52 X[i+1] / X[i]) (below it the point is under the curve for sure), zig_f[i] =
 * exp(-X[i]^2 / 2); X[0] = V / f(r) is the base strip's virtual width, X[1] = r, X[256] = 0. */
/* r = 3.6541528853610087716, V = 0.0049286732339746553474 */
#define ZIG_R 0x1.d3bb48209ad33p+1 /* 3.6541528853610087716 */
static const double zig_w[512] = {
    0x1.f493b7815d982p-51, 0x1.d3bb48209ad33p-51, 0x1.b981f3878fdb0p-51, 0x1.a8fdc78947759p-51,
    0x1.9cbee014057aap-51, 0x1.92ee0946f4496p-51, 0x1.8ab0fbfaa7c14p-51, 0x1.839030529f233p-51,
    0x1.7d42df4d6ce8bp-51, 0x1.7799556090672p-51, 0x1.72728f05f7a33p-51, 0x1.6db6b8d09e231p-51,
    0x1.69540be9fe5c2p-51, 0x1.653ce7b006aeap-51, 0x1.61669cf861e4bp-51, 0x1.5dc8a243ad0fep-51,
    0x1.5a5c08b718dd9p-51, 0x1.571b1a94ae41cp-51, 0x1.54011523a7e43p-51, 0x1.5109f53e9ac42p-51,
    0x1.4e3250dcd8903p-51, 0x1.4b7739d6b5a28p-51, 0x1.48d62759c43bdp-51, 0x1.464ce44a73a16p-51,
    0x1.43d9815545e94p-51, 0x1.417a49cb9e5dbp-51, 0x1.3f2dbaa60f475p-51, 0x1.3cf27b31704a6p-51,
    0x1.3ac7570ae88fap-51, 0x1.38ab39256410ap-51, 0x1.369d27a33a840p-51, 0x1.349c405ae12a3p-51,
    0x1.32a7b5e68a4a3p-51, 0x1.30becd256aeeep-51, 0x1.2ee0db1a978f5p-51, 0x1.2d0d43196db97p-51,
    0x1.2b437532a0a53p-51, 0x1.2982ecd770e78p-51, 0x1.27cb2faa8592ep-51, 0x1.261bcc77658e0p-51,
    0x1.24745a4ac9c24p-51, 0x1.22d477a6fd3efp-51, 0x1.213bc9d04cc82p-51, 0x1.1fa9fc2e2d901p-51,
    0x1.1e1ebfbe4ae39p-51, 0x1.1c99ca971a695p-51, 0x1.1b1ad777f2f8fp-51, 0x1.19a1a564eebadp-51,
    0x1.182df74d21262p-51, 0x1.16bf93b9deef5p-51, 0x1.1556448602e3dp-51, 0x1.13f1d69c4096fp-51,
    0x1.129219bbb5d37p-51, 0x1.1136e04207043p-51, 0x1.0fdffefa69fb8p-51, 0x1.0e8d4cf116594p-51,
    0x1.0d3ea34aa3d32p-51, 0x1.0bf3dd1eed449p-51, 0x1.0aacd7571c0c5p-51, 0x1.0969708e8a255p-51,
    0x1.082988f632e18p-51, 0x1.06ed023a72669p-51, 0x1.05b3bf6adb37ep-51, 0x1.047da4e3ef5c7p-51,
    0x1.034a983a902abp-51, 0x1.021a8028fc947p-51, 0x1.00ed447d3a075p-51, 0x1.ff859c118f60bp-52,
    0x1.fd360d22fe785p-52, 0x1.faebb187122bfp-52, 0x1.f8a6604899782p-52, 0x1.f665f20c90168p-52,
    0x1.f42a40fb74d6dp-52, 0x1.f1f328ac25321p-52, 0x1.efc086101eca9p-52, 0x1.ed9237610a73ap-52,
    0x1.eb681c0f76f08p-52, 0x1.e94214b2abf09p-52, 0x1.e72002f97fe23p-52, 0x1.e501c99c1d186p-52,
    0x1.e2e74c4ea46f3p-52, 0x1.e0d06fb49d219p-52, 0x1.debd195522e34p-52, 0x1.dcad2f8fc490cp-52,
    0x1.daa0999206e6ep-52, 0x1.d8973f4d7fba4p-52, 0x1.d691096e7f123p-52, 0x1.d48de1533c647p-52,
    0x1.d28db1037ef20p-52, 0x1.d0906328b8f6ep-52, 0x1.ce95e3068e037p-52, 0x1.cc9e1c73bd690p-52,
    0x1.caa8fbd36a2abp-52, 0x1.c8b66e0eba617p-52, 0x1.c6c6608ec8705p-52, 0x1.c4d8c136e0d1dp-52,
    0x1.c2ed7e5f07a2dp-52, 0x1.c10486cec16a0p-52, 0x1.bf1dc9b81ae82p-52, 0x1.bd3936b2ec0a2p-52,
    0x1.bb56bdb85256ep-52, 0x1.b9764f1e5f73dp-52, 0x1.b797db93f8928p-52, 0x1.b5bb541ce3d04p-52,
    0x1.b3e0aa0e00c01p-52, 0x1.b207cf09a985cp-52, 0x1.b030b4fc3a11bp-52, 0x1.ae5b4e18bb338p-52,
    0x1.ac878cd5af5cfp-52, 0x1.aab563e9ff10ap-52, 0x1.a8e4c64a0313fp-52, 0x1.a715a724aa9a7p-52,
    0x1.a547f9e0bbb8bp-52, 0x1.a37bb21a2c85ep-52, 0x1.a1b0c39f93696p-52, 0x1.9fe7226fad24dp-52,
    0x1.9e1ec2b6f7414p-52, 0x1.9c5798cd5d92ep-52, 0x1.9a919933f99c1p-52, 0x1.98ccb892e2a33p-52,
    0x1.9708ebb70d5efp-52, 0x1.954627903a28bp-52, 0x1.9384612ef0afep-52, 0x1.91c38dc288349p-52,
    0x1.9003a2973b591p-52, 0x1.8e44951446a28p-52, 0x1.8c865aba10c9dp-52, 0x1.8ac8e9205c044p-52,
    0x1.890c35f47f72ep-52, 0x1.875036f7a7ec7p-52, 0x1.8594e1fd1f5bep-52, 0x1.83da2ce899f16p-52,
    0x1.82200dac88677p-52, 0x1.80667a486ea1fp-52, 0x1.7ead68c73dee7p-52, 0x1.7cf4cf3db22fcp-52,
    0x1.7b3ca3c8b140ap-52, 0x1.7984dc8babd94p-52, 0x1.77cd6faeff44ap-52, 0x1.7616535e57320p-52,
    0x1.745f7dc70eeddp-52, 0x1.72a8e516914c7p-52, 0x1.70f27f78b68ecp-52, 0x1.6f3c43161f856p-52,
    0x1.6d8626128d354p-52, 0x1.6bd01e8b343bdp-52, 0x1.6a1a22950b2b3p-52, 0x1.6864283b13139p-52,
    0x1.66ae257c99674p-52, 0x1.64f8104b7260dp-52, 0x1.6341de8a2b0a4p-52, 0x1.618b860a31fc5p-52,
    0x1.5fd4fc89f5e39p-52, 0x1.5e1e37b2f8cd4p-52, 0x1.5c672d17d733fp-52, 0x1.5aafd23241b5ap-52,
    0x1.58f81c60e8515p-52, 0x1.574000e555f79p-52, 0x1.558774e1bb2c9p-52, 0x1.53ce6d56a6650p-52,
    0x1.5214df20a8b5cp-52, 0x1.505abef5e5563p-52, 0x1.4ea001638a606p-52, 0x1.4ce49acb311ddp-52,
    0x1.4b287f602415ep-52, 0x1.496ba32488f30p-52, 0x1.47adf9e66c338p-52, 0x1.45ef773cac75ep-52,
    0x1.44300e83c30a6p-52, 0x1.426fb2da6745fp-52, 0x1.40ae571e09e76p-52, 0x1.3eebede725a85p-52,
    0x1.3d28698561de3p-52, 0x1.3b63bbfb83d06p-52, 0x1.399dd6fb2b267p-52, 0x1.37d6abe05586cp-52,
    0x1.360e2baca52d7p-52, 0x1.3444470265ea4p-52, 0x1.3278ee1f4b933p-52, 0x1.30ac10d6e48dap-52,
    0x1.2edd9e8cba990p-52, 0x1.2d0d862e1b855p-52, 0x1.2b3bb62b82edbp-52, 0x1.29681c719d71dp-52,
    0x1.2792a661dd381p-52, 0x1.25bb40ca96bfep-52, 0x1.23e1d7de9c322p-52, 0x1.2206572c4c6ecp-52,
    0x1.2028a9940a0a3p-52, 0x1.1e48b93e0d431p-52, 0x1.1c666f8f82acfp-52, 0x1.1a81b51ee6d8bp-52,
    0x1.189a71a78da37p-52, 0x1.16b08bfc42020p-52, 0x1.14c3e9f8e9143p-52, 0x1.12d4707310fc1p-52,
    0x1.10e20329515f1p-52, 0x1.0eec84b16086fp-52, 0x1.0cf3d664bcc83p-52, 0x1.0af7d84bc6116p-52,
    0x1.08f869071f40fp-52, 0x1.06f565b72a014p-52, 0x1.04eea9e16a5ffp-52, 0x1.02e40f5398f9dp-52,
    0x1.00d56e04234eep-52, 0x1.fd8537dfa2eb1p-53, 0x1.f956d9e87d7b2p-53, 0x1.f51f654d8f68cp-53,
    0x1.f0de784f0622ap-53, 0x1.ec93abdf982d2p-53, 0x1.e83e9337a6f04p-53, 0x1.e3debb5d2ee02p-53,
    0x1.df73aa9f17656p-53, 0x1.dafce0023b8c8p-53, 0x1.d679d29e41f14p-53, 0x1.d1e9f0e80b74bp-53,
    0x1.cd4c9fe72268fp-53, 0x1.c8a13a5323b66p-53, 0x1.c3e70f9594ef8p-53, 0x1.bf1d62abf8239p-53,
    0x1.ba4368e529f40p-53, 0x1.b558487427a2fp-53, 0x1.b05b16d136ca2p-53, 0x1.ab4ad6e101636p-53,
    0x1.a62676d77cd5fp-53, 0x1.a0eccdca4a731p-53, 0x1.9b9c98e38c54dp-53, 0x1.96347822c1ef0p-53,
    0x1.90b2ea94ecf9ep-53, 0x1.8b1649e7b769fp-53, 0x1.855cc53430a7dp-53, 0x1.7f845ad46f549p-53,
    0x1.798ad10b32a7ep-53, 0x1.736dad346f8adp-53, 0x1.6d2a292000576p-53, 0x1.66bd261a37c44p-53,
    0x1.60231cfd97ef1p-53, 0x1.59580a707ce9cp-53, 0x1.52575621ad379p-53, 0x1.4b1bb363dfeadp-53,
    0x1.439ef8dff9b5ap-53, 0x1.3bd9ec1a2b134p-53, 0x1.33c3fc05791fap-53, 0x1.2b52e3863d885p-53,
    0x1.227a28f7a1afap-53, 0x1.192a69741367dp-53, 0x1.0f5053b025d4ap-53, 0x1.04d32278ebbb4p-53,
    0x1.f32482d4cd5d0p-54, 0x1.dac2f5a747281p-54, 0x1.c004d2f386207p-54, 0x1.a230c2e4cd0cbp-54,
    0x1.801fce82fa71ap-54, 0x1.57cb938443b71p-54, 0x1.250af3c2c5bc6p-54, 0x1.b8d0be3fdf702p-55,
    -0x1.f493b7815d982p-51, -0x1.d3bb48209ad33p-51, -0x1.b981f3878fdb0p-51, -0x1.a8fdc78947759p-51,
    -0x1.9cbee014057aap-51, -0x1.92ee0946f4496p-51, -0x1.8ab0fbfaa7c14p-51, -0x1.839030529f233p-51,
    -0x1.7d42df4d6ce8bp-51, -0x1.7799556090672p-51, -0x1.72728f05f7a33p-51, -0x1.6db6b8d09e231p-51,
    -0x1.69540be9fe5c2p-51, -0x1.653ce7b006aeap-51, -0x1.61669cf861e4bp-51, -0x1.5dc8a243ad0fep-51,
    -0x1.5a5c08b718dd9p-51, -0x1.571b1a94ae41cp-51, -0x1.54011523a7e43p-51, -0x1.5109f53e9ac42p-51,
    -0x1.4e3250dcd8903p-51, -0x1.4b7739d6b5a28p-51, -0x1.48d62759c43bdp-51, -0x1.464ce44a73a16p-51,
    -0x1.43d9815545e94p-51, -0x1.417a49cb9e5dbp-51, -0x1.3f2dbaa60f475p-51, -0x1.3cf27b31704a6p-51,
    -0x1.3ac7570ae88fap-51, -0x1.38ab39256410ap-51, -0x1.369d27a33a840p-51, -0x1.349c405ae12a3p-51,
    -0x1.32a7b5e68a4a3p-51, -0x1.30becd256aeeep-51, -0x1.2ee0db1a978f5p-51, -0x1.2d0d43196db97p-51,
    -0x1.2b437532a0a53p-51, -0x1.2982ecd770e78p-51, -0x1.27cb2faa8592ep-51, -0x1.261bcc77658e0p-51,
    -0x1.24745a4ac9c24p-51, -0x1.22d477a6fd3efp-51, -0x1.213bc9d04cc82p-51, -0x1.1fa9fc2e2d901p-51,
    -0x1.1e1ebfbe4ae39p-51, -0x1.1c99ca971a695p-51, -0x1.1b1ad777f2f8fp-51, -0x1.19a1a564eebadp-51,
    -0x1.182df74d21262p-51, -0x1.16bf93b9deef5p-51, -0x1.1556448602e3dp-51, -0x1.13f1d69c4096fp-51,
    -0x1.129219bbb5d37p-51, -0x1.1136e04207043p-51, -0x1.0fdffefa69fb8p-51, -0x1.0e8d4cf116594p-51,
    -0x1.0d3ea34aa3d32p-51, -0x1.0bf3dd1eed449p-51, -0x1.0aacd7571c0c5p-51, -0x1.0969708e8a255p-51,
    -0x1.082988f632e18p-51, -0x1.06ed023a72669p-51, -0x1.05b3bf6adb37ep-51, -0x1.047da4e3ef5c7p-51,
    -0x1.034a983a902abp-51, -0x1.021a8028fc947p-51, -0x1.00ed447d3a075p-51, -0x1.ff859c118f60bp-52,
    -0x1.fd360d22fe785p-52, -0x1.faebb187122bfp-52, -0x1.f8a6604899782p-52, -0x1.f665f20c90168p-52,
    -0x1.f42a40fb74d6dp-52, -0x1.f1f328ac25321p-52, -0x1.efc086101eca9p-52, -0x1.ed9237610a73ap-52,
    -0x1.eb681c0f76f08p-52, -0x1.e94214b2abf09p-52, -0x1.e72002f97fe23p-52, -0x1.e501c99c1d186p-52,
    -0x1.e2e74c4ea46f3p-52, -0x1.e0d06fb49d219p-52, -0x1.debd195522e34p-52, -0x1.dcad2f8fc490cp-52,
    -0x1.daa0999206e6ep-52, -0x1.d8973f4d7fba4p-52, -0x1.d691096e7f123p-52, -0x1.d48de1533c647p-52,
    -0x1.d28db1037ef20p-52, -0x1.d0906328b8f6ep-52, -0x1.ce95e3068e037p-52, -0x1.cc9e1c73bd690p-52,
    -0x1.caa8fbd36a2abp-52, -0x1.c8b66e0eba617p-52, -0x1.c6c6608ec8705p-52, -0x1.c4d8c136e0d1dp-52,
    -0x1.c2ed7e5f07a2dp-52, -0x1.c10486cec16a0p-52, -0x1.bf1dc9b81ae82p-52, -0x1.bd3936b2ec0a2p-52,
    -0x1.bb56bdb85256ep-52, -0x1.b9764f1e5f73dp-52, -0x1.b797db93f8928p-52, -0x1.b5bb541ce3d04p-52,
    -0x1.b3e0aa0e00c01p-52, -0x1.b207cf09a985cp-52, -0x1.b030b4fc3a11bp-52, -0x1.ae5b4e18bb338p-52,
    -0x1.ac878cd5af5cfp-52, -0x1.aab563e9ff10ap-52, -0x1.a8e4c64a0313fp-52, -0x1.a715a724aa9a7p-52,
    -0x1.a547f9e0bbb8bp-52, -0x1.a37bb21a2c85ep-52, -0x1.a1b0c39f93696p-52, -0x1.9fe7226fad24dp-52,
    -0x1.9e1ec2b6f7414p-52, -0x1.9c5798cd5d92ep-52, -0x1.9a919933f99c1p-52, -0x1.98ccb892e2a33p-52,
    -0x1.9708ebb70d5efp-52, -0x1.954627903a28bp-52, -0x1.9384612ef0afep-52, -0x1.91c38dc288349p-52,
    -0x1.9003a2973b591p-52, -0x1.8e44951446a28p-52, -0x1.8c865aba10c9dp-52, -0x1.8ac8e9205c044p-52,
    -0x1.890c35f47f72ep-52, -0x1.875036f7a7ec7p-52, -0x1.8594e1fd1f5bep-52, -0x1.83da2ce899f16p-52,
    -0x1.82200dac88677p-52, -0x1.80667a486ea1fp-52, -0x1.7ead68c73dee7p-52, -0x1.7cf4cf3db22fcp-52,
    -0x1.7b3ca3c8b140ap-52, -0x1.7984dc8babd94p-52, -0x1.77cd6faeff44ap-52, -0x1.7616535e57320p-52,
    -0x1.745f7dc70eeddp-52, -0x1.72a8e516914c7p-52, -0x1.70f27f78b68ecp-52, -0x1.6f3c43161f856p-52,
    -0x1.6d8626128d354p-52, -0x1.6bd01e8b343bdp-52, -0x1.6a1a22950b2b3p-52, -0x1.6864283b13139p-52,
    -0x1.66ae257c99674p-52, -0x1.64f8104b7260dp-52, -0x1.6341de8a2b0a4p-52, -0x1.618b860a31fc5p-52,
    -0x1.5fd4fc89f5e39p-52, -0x1.5e1e37b2f8cd4p-52, -0x1.5c672d17d733fp-52, -0x1.5aafd23241b5ap-52,
    -0x1.58f81c60e8515p-52, -0x1.574000e555f79p-52, -0x1.558774e1bb2c9p-52, -0x1.53ce6d56a6650p-52,
    -0x1.5214df20a8b5cp-52, -0x1.505abef5e5563p-52, -0x1.4ea001638a606p-52, -0x1.4ce49acb311ddp-52,
    -0x1.4b287f602415ep-52, -0x1.496ba32488f30p-52, -0x1.47adf9e66c338p-52, -0x1.45ef773cac75ep-52,
    -0x1.44300e83c30a6p-52, -0x1.426fb2da6745fp-52, -0x1.40ae571e09e76p-52, -0x1.3eebede725a85p-52,
    -0x1.3d28698561de3p-52, -0x1.3b63bbfb83d06p-52, -0x1.399dd6fb2b267p-52, -0x1.37d6abe05586cp-52,
    -0x1.360e2baca52d7p-52, -0x1.3444470265ea4p-52, -0x1.3278ee1f4b933p-52, -0x1.30ac10d6e48dap-52,
    -0x1.2edd9e8cba990p-52, -0x1.2d0d862e1b855p-52, -0x1.2b3bb62b82edbp-52, -0x1.29681c719d71dp-52,
    -0x1.2792a661dd381p-52, -0x1.25bb40ca96bfep-52, -0x1.23e1d7de9c322p-52, -0x1.2206572c4c6ecp-52,
    -0x1.2028a9940a0a3p-52, -0x1.1e48b93e0d431p-52, -0x1.1c666f8f82acfp-52, -0x1.1a81b51ee6d8bp-52,
    -0x1.189a71a78da37p-52, -0x1.16b08bfc42020p-52, -0x1.14c3e9f8e9143p-52, -0x1.12d4707310fc1p-52,
    -0x1.10e20329515f1p-52, -0x1.0eec84b16086fp-52, -0x1.0cf3d664bcc83p-52, -0x1.0af7d84bc6116p-52,
    -0x1.08f869071f40fp-52, -0x1.06f565b72a014p-52, -0x1.04eea9e16a5ffp-52, -0x1.02e40f5398f9dp-52,
    -0x1.00d56e04234eep-52, -0x1.fd8537dfa2eb1p-53, -0x1.f956d9e87d7b2p-53, -0x1.f51f654d8f68cp-53,
    -0x1.f0de784f0622ap-53, -0x1.ec93abdf982d2p-53, -0x1.e83e9337a6f04p-53, -0x1.e3debb5d2ee02p-53,
    -0x1.df73aa9f17656p-53, -0x1.dafce0023b8c8p-53, -0x1.d679d29e41f14p-53, -0x1.d1e9f0e80b74bp-53,
    -0x1.cd4c9fe72268fp-53, -0x1.c8a13a5323b66p-53, -0x1.c3e70f9594ef8p-53, -0x1.bf1d62abf8239p-53,
    -0x1.ba4368e529f40p-53, -0x1.b558487427a2fp-53, -0x1.b05b16d136ca2p-53, -0x1.ab4ad6e101636p-53,
    -0x1.a62676d77cd5fp-53, -0x1.a0eccdca4a731p-53, -0x1.9b9c98e38c54dp-53, -0x1.96347822c1ef0p-53,
    -0x1.90b2ea94ecf9ep-53, -0x1.8b1649e7b769fp-53, -0x1.855cc53430a7dp-53, -0x1.7f845ad46f549p-53,
    -0x1.798ad10b32a7ep-53, -0x1.736dad346f8adp-53, -0x1.6d2a292000576p-53, -0x1.66bd261a37c44p-53,
    -0x1.60231cfd97ef1p-53, -0x1.59580a707ce9cp-53, -0x1.52575621ad379p-53, -0x1.4b1bb363dfeadp-53,
    -0x1.439ef8dff9b5ap-53, -0x1.3bd9ec1a2b134p-53, -0x1.33c3fc05791fap-53, -0x1.2b52e3863d885p-53,
    -0x1.227a28f7a1afap-53, -0x1.192a69741367dp-53, -0x1.0f5053b025d4ap-53, -0x1.04d32278ebbb4p-53,
    -0x1.f32482d4cd5d0p-54, -0x1.dac2f5a747281p-54, -0x1.c004d2f386207p-54, -0x1.a230c2e4cd0cbp-54,
    -0x1.801fce82fa71ap-54, -0x1.57cb938443b71p-54, -0x1.250af3c2c5bc6p-54, -0x1.b8d0be3fdf702p-55};
static const uint64_t zig_k[256] = {
    0xef33d8025ef65u, 0xf1a5a4b331c49u, 0xf66c5f7f0302cu, 0xf89fa48a41dfbu,
    0xf9e971e014597u, 0xfac40582a2873u, 0xfb606c4005433u, 0xfbd6581c0b839u,
    0xfc32b2f1e22ecu, 0xfc7d26ecd2d22u, 0xfcba8d85e11b1u, 0xfcee204761f9eu,
    0xfd1a1a7b4c7acu, 0xfd40149e2f011u, 0xfd613adbd650bu, 0xfd7e6ef48cf04u,
    0xfd985e1b2ba75u, 0xfdaf8f82e0282u, 0xfdc46e529bf12u, 0xfdd7509c63bfdu,
    0xfde87c57efeaau, 0xfdf82b02b71aau, 0xfe068c4ee67afu, 0xfe13c82788314u,
    0xfe20003995557u, 0xfe2b5122fe4fdu, 0xfe35d35eeb19bu, 0xfe3f9bffd1e37u,
    0xfe48bd436f457u, 0xfe51470977280u, 0xfe5947338f742u, 0xfe60c9f38307du,
    0xfe67da0b6abd8u, 0xfe6e8102aa201u, 0xfe74c751f6aa5u, 0xfe7ab488233bfu,
    0xfe804f690a93fu, 0xfe859e07ab1eau, 0xfe8aa5dc4e8e6u, 0xfe8f6bd76c5d6u,
    0xfe93f471d4728u, 0xfe9843ba947a3u, 0xfe9c5d62f563au, 0xfea044c8dd9f6u,
    0xfea3fcffd73e5u, 0xfea788d8ee326u, 0xfeaaeae992256u, 0xfeae2591a02e8u,
    0xfeb13b00b2d4bu, 0xfeb42d3ad1f9eu, 0xfeb6fe1c98542u, 0xfeb9af5ee0cdcu,
    0xfebc429a0b691u, 0xfebeb948e6fd0u, 0xfec114cb4b334u, 0xfec356686c961u,
    0xfec57f50f31fdu, 0xfec790a0da978u, 0xfec98b61230c0u, 0xfecb708956eb4u,
    0xfecd4100eb7b8u, 0xfecefda07fe33u, 0xfed0a732fe643u, 0xfed23e76a2fd7u,
    0xfed3c41dea422u, 0xfed538d06adffu, 0xfed69d2b9c02au, 0xfed7f1c38a836u,
    0xfed937237e98cu, 0xfeda6dce938c9u, 0xfedb964042cf3u, 0xfedcb0ece39d3u,
    0xfeddbe422047du, 0xfedebea76216cu, 0xfedfb27e349cbu, 0xfee09a22a1447u,
    0xfee175eb83c59u, 0xfee2462ad8204u, 0xfee30b2e02ad7u, 0xfee3c53e12c4fu,
    0xfee474a0006ceu, 0xfee51994e57b5u, 0xfee5b45a32888u, 0xfee64529e007fu,
    0xfee6cc3a9bd5eu, 0xfee749bff37ffu, 0xfee7bdea7b887u, 0xfee828e7f3dfcu,
    0xfee88ae369c79u, 0xfee8e40557515u, 0xfee93473c0a39u, 0xfee97c524f2e3u,
    0xfee9bbc26af2eu, 0xfee9f2e352024u, 0xfeea21d22e4d9u, 0xfeea48aa29e82u,
    0xfeea678481d24u, 0xfeea7e7897653u, 0xfeea8d9c0075du, 0xfeea95029640fu,
    0xfeea94be8333bu, 0xfeea8ce04fa0au, 0xfeea7d76ed6f9u, 0xfeea668fc2d71u,
    0xfeea4836b42abu, 0xfeea22762ccaeu, 0xfee9f557273f3u, 0xfee9c0e13485bu,
    0xfee9851a829ebu, 0xfee94207e25dau, 0xfee8f7accc851u, 0xfee8a60b66342u,
    0xfee84d2484ab2u, 0xfee7ecf7b06b9u, 0xfee7858327b81u, 0xfee716c3e077au,
    0xfee6a0b5897f0u, 0xfee623528b42du, 0xfee59e9407f41u, 0xfee51271db086u,
    0xfee47ee2982f3u, 0xfee3e3db89b3cu, 0xfee34150ae4bbu, 0xfee29734b6524u,
    0xfee1e579006dfu, 0xfee12c0d95a06u, 0xfee06ae124bc4u, 0xfedfa1e0fd413u,
    0xfeded0f90997fu, 0xfeddf813c8ad2u, 0xfedd171a46e52u, 0xfedc2df416652u,
    0xfedb3c8746ab3u, 0xfeda42b85b704u, 0xfed9406a42cc8u, 0xfed8357e4a981u,
    0xfed721d414fe8u, 0xfed605498c3dcu, 0xfed4dfbad586du, 0xfed3b10242f4cu,
    0xfed278f844903u, 0xfed1377358528u, 0xfecfec47f91b7u, 0xfece97488c8b3u,
    0xfecd38454fb15u, 0xfecbcf0c427feu, 0xfeca5b6911f10u, 0xfec8dd2500cb4u,
    0xfec75406ceef4u, 0xfec5bfd29f196u, 0xfec42049dafd3u, 0xfec2752b15a14u,
    0xfec0be31ebde8u, 0xfebefb16e2e3du, 0xfebd2b8f449cfu, 0xfebb4f4cf9d7cu,
    0xfeb965fe62013u, 0xfeb76f4e284f9u, 0xfeb56ae3162b4u, 0xfeb3585fe2a4au,
    0xfeb13762fec12u, 0xfeaf07865e63cu, 0xfeacc85f3d91fu, 0xfeaa797de1cefu,
    0xfea81a6d57419u, 0xfea5aab32952cu, 0xfea329cf166a4u, 0xfea0973abe67bu,
    0xfe9df2694b6d5u, 0xfe9b3ac714865u, 0xfe986fb939aa1u, 0xfe95909d388eau,
    0xfe929cc879b1cu, 0xfe8f9387d4ef6u, 0xfe8c741f0cebcu, 0xfe893dc840864u,
    0xfe85efb35173bu, 0xfe8289053f08cu, 0xfe7f08d774242u, 0xfe7b6e37070a1u,
    0xfe77b823e9e39u, 0xfe73e5900a701u, 0xfe6ff55e5f4f2u, 0xfe6be661e11aau,
    0xfe67b75c6d578u, 0xfe6366fd91077u, 0xfe5ef3e138689u, 0xfe5a5c8e41212u,
    0xfe559f74ebc77u, 0xfe50baed29524u, 0xfe4bad34c095bu, 0xfe46746d47734u,
    0xfe410e99ead7eu, 0xfe3b799d0002au, 0xfe35b33558d4au, 0xfe2fb8fb54186u,
    0xfe29885da1b91u, 0xfe231e9db1ca9u, 0xfe1c78cbc3f98u, 0xfe1593c28b84bu,
    0xfe0e6c225a258u, 0xfe06fe4bc24f1u, 0xfdff46599ed3eu, 0xfdf7401a6b42eu,
    0xfdeee708d514eu, 0xfde6364369f63u, 0xfddd288342f8fu, 0xfdd3b8118729du,
    0xfdc9debb99a7du, 0xfdbf95c5bfcd0u, 0xfdb4d5dc02e1fu, 0xfda9970105e8bu,
    0xfd9dd07a7add2u, 0xfd9178bad2c8bu, 0xfd848547b08e8u, 0xfd76ea9c8e832u,
    0xfd689c08e99ecu, 0xfd598b8920f52u, 0xfd49a9990b479u, 0xfd38e4ff0c91eu,
    0xfd272a8e2f450u, 0xfd1464dd6c4e5u, 0xfd007bf1dc930u, 0xfceb54d8fec99u,
    0xfcd4d12f839c4u, 0xfcbcce902231au, 0xfca325e4bde85u, 0xfc87aa92896a4u,
    0xfc6a2977aee30u, 0xfc4a67ae25bd1u, 0xfc2821037a248u, 0xfc03060ff6c57u,
    0xfbdab9d040bedu, 0xfbaece9a1e50cu, 0xfb7ec2366fe77u, 0xfb49f8d5374c5u,
    0xfb0fb6718b90eu, 0xfacf160d354dbu, 0xfa86fde5b4bf8u, 0xfa360f581fa72u,
    0xf9da907dbf508u, 0xf9724c74dd0dau, 0xf8fa6578325ddu, 0xf86f10c6357d2u,
    0xf7cb2ec28449bu, 0xf707a755396a4u, 0xf61a5e41ba396u, 0xf4f469561255bu,
    0xf37ed61ffcb17u, 0xf19470afa44abu, 0xeef4b817ecab8u, 0xeb255e9d3f77eu,
    0xe51f67ec1eeecu, 0xda354fabd8146u, 0xc08be98fbc6b6u, 0x0000000000000u};
static const double zig_f[257] = {
    0x1.f4a946f13842fp-12, 0x1.4a605b6b9f70dp-10, 0x1.55f9f43c1b070p-9, 0x1.08a1f03b0b205p-8,
    0x1.69ea8d90cb864p-8, 0x1.ce160f8ec683cp-8, 0x1.1a59229952f95p-7, 0x1.4eb96421acfe7p-7,
    0x1.841040d8da47ep-7, 0x1.ba48d274f8fb3p-7, 0x1.f152a4f72dd53p-7, 0x1.149033460301ap-6,
    0x1.30d388dab5e1ap-6, 0x1.4d6eaf2fbb067p-6, 0x1.6a5daf40bbf87p-6, 0x1.879d1b600c10bp-6,
    0x1.a529f4e22ebf4p-6, 0x1.c301983cd0912p-6, 0x1.e121adb828c69p-6, 0x1.ff881d718a5b5p-6,
    0x1.0f1982e968009p-5, 0x1.1e9059f1f6ab6p-5, 0x1.2e27ce83df495p-5, 0x1.3ddf2ce98eec7p-5,
    0x1.4db5d0e11275cp-5, 0x1.5dab23cf2add1p-5, 0x1.6dbe9b398d062p-5, 0x1.7defb77af271cp-5,
    0x1.8e3e02a68b5a9p-5, 0x1.9ea90f9295561p-5, 0x1.af30790385f6fp-5, 0x1.bfd3e0f282a2cp-5,
    0x1.d092efeadf162p-5, 0x1.e16d547b25185p-5, 0x1.f262c2b6c6e33p-5, 0x1.01b979e30e496p-4,
    0x1.0a4ed2c159622p-4, 0x1.12f14d0f2179dp-4, 0x1.1ba0cbe97897ep-4, 0x1.245d344dd0d8fp-4,
    0x1.2d266cf9b310dp-4, 0x1.35fc5e4d93e69p-4, 0x1.3edef23269a81p-4, 0x1.47ce1401b2212p-4,
    0x1.50c9b06fa2babp-4, 0x1.59d1b5774669dp-4, 0x1.62e6124854d10p-4, 0x1.6c06b73694a46p-4,
    0x1.753395aaa116dp-4, 0x1.7e6ca013eefccp-4, 0x1.87b1c9dbf2846p-4, 0x1.9103075a4a09fp-4,
    0x1.9a604dc9d5b0bp-4, 0x1.a3c9933ea627bp-4, 0x1.ad3ece9caf627p-4, 0x1.b6bff78f2e228p-4,
    0x1.c04d0680b100ap-4, 0x1.c9e5f493b7404p-4, 0x1.d38abb9bd91dcp-4, 0x1.dd3b56176e88bp-4,
    0x1.e6f7bf29aa546p-4, 0x1.f0bff29520e16p-4, 0x1.fa93ecb6b222bp-4, 0x1.0239d54067d29p-3,
    0x1.072f94bb8bf84p-3, 0x1.0c2b33d5209b9p-3, 0x1.112cb1da26eb8p-3, 0x1.16340e5a82d62p-3,
    0x1.1b41492757d42p-3, 0x1.2054625183c34p-3, 0x1.256d5a2835eb6p-3, 0x1.2a8c3137a071bp-3,
    0x1.2fb0e847c2a65p-3, 0x1.34db805b4ab89p-3, 0x1.3a0bfaae8d7eep-3, 0x1.3f4258b6931afp-3,
    0x1.447e9c20375d6p-3, 0x1.49c0c6cf5ce30p-3, 0x1.4f08dade31fc6p-3, 0x1.5456da9c8683bp-3,
    0x1.59aac88f31d74p-3, 0x1.5f04a76f88400p-3, 0x1.64647a2adf1a4p-3, 0x1.69ca43e21f261p-3,
    0x1.6f3607e964719p-3, 0x1.74a7c9c7ab5a8p-3, 0x1.7a1f8d368a323p-3, 0x1.7f9d5621f7174p-3,
    0x1.852128a819a38p-3, 0x1.8aab09192815ap-3, 0x1.903afbf74fa68p-3, 0x1.95d105f6a7c27p-3,
    0x1.9b6d2bfd2fe5ap-3, 0x1.a10f7322d7e3cp-3, 0x1.a6b7e0b19267cp-3, 0x1.ac667a2571805p-3,
    0x1.b21b452ccd13ap-3, 0x1.b7d647a8731abp-3, 0x1.bd9787abe18a2p-3, 0x1.c35f0b7d89d46p-3,
    0x1.c92cd9971df52p-3, 0x1.cf00f8a5e6fcap-3, 0x1.d4db6f8b2514cp-3, 0x1.dabc455c79006p-3,
    0x1.e0a3816457181p-3, 0x1.e6912b2283cd9p-3, 0x1.ec854a4c99c3ep-3, 0x1.f27fe6ce998ccp-3,
    0x1.f88108cb8322fp-3, 0x1.fe88b89df93bcp-3, 0x1.024b7f6c7747ap-2, 0x1.0555f2242e9d4p-2,
    0x1.0863b8f904331p-2, 0x1.0b74d88b242d4p-2, 0x1.0e895598709bdp-2, 0x1.11a134fcf241dp-2,
    0x1.14bc7bb34ee63p-2, 0x1.17db2ed5454e5p-2, 0x1.1afd539c2f04cp-2, 0x1.1e22ef6188113p-2,
    0x1.214c079f7cc9cp-2, 0x1.2478a1f17de86p-2, 0x1.27a8c414db11bp-2, 0x1.2adc73e963fdap-2,
    0x1.2e13b77210764p-2, 0x1.314e94d5af62dp-2, 0x1.348d125f9d19cp-2, 0x1.37cf368081376p-2,
    0x1.3b1507cf143acp-2, 0x1.3e5e8d08ed2d8p-2, 0x1.41abcd1357a18p-2, 0x1.44fccefc324fcp-2,
    0x1.485199fad6ad4p-2, 0x1.4baa357109ca2p-2, 0x1.4f06a8ebf6d91p-2, 0x1.5266fc2533beap-2,
    0x1.55cb3703d00fdp-2, 0x1.5933619d6eebcp-2, 0x1.5c9f84376c241p-2, 0x1.600fa7480d2c6p-2,
    0x1.6383d377be513p-2, 0x1.66fc11a25cbdfp-2, 0x1.6a786ad88de1ep-2, 0x1.6df8e86124ca6p-2,
    0x1.717d93ba96148p-2, 0x1.7506769c7b1e8p-2, 0x1.78939af9252e6p-2, 0x1.7c250aff414acp-2,
    0x1.7fbad11b8d90dp-2, 0x1.8354f7faa0dd5p-2, 0x1.86f38a8ac5ab2p-2, 0x1.8a9693fde9185p-2,
    0x1.8e3e1fcb9f113p-2, 0x1.91ea39b33cb13p-2, 0x1.959aedbe09f8fp-2, 0x1.995048418c0c3p-2,
    0x1.9d0a55e1e93dcp-2, 0x1.a0c923946843bp-2, 0x1.a48cbea20c04bp-2, 0x1.a85534aa4d87dp-2,
    0x1.ac2293a5f5a9ap-2, 0x1.aff4e9ea18550p-2, 0x1.b3cc462b331c8p-2, 0x1.b7a8b78071319p-2,
    0x1.bb8a4d6716d8fp-2, 0x1.bf7117c616a14p-2, 0x1.c35d26f1d2cb5p-2, 0x1.c74e8bb00d7c3p-2,
    0x1.cb45573c0a843p-2, 0x1.cf419b4ae5b69p-2, 0x1.d3436a102107bp-2, 0x1.d74ad6426de2dp-2,
    0x1.db57f320b56abp-2, 0x1.df6ad47763a03p-2, 0x1.e3838ea5f9b7ep-2, 0x1.e7a236a4ec3bfp-2,
    0x1.ebc6e20bd1f4fp-2, 0x1.eff1a717e8f8ep-2, 0x1.f4229cb2f7aecp-2, 0x1.f859da7a900c4p-2,
    0x1.fc9778c7bbd9bp-2, 0x1.006dc85b8cac2p-1, 0x1.02931e18b8228p-1, 0x1.04bbcafa63f2bp-1,
    0x1.06e7dccf03c33p-1, 0x1.091761d995d7dp-1, 0x1.0b4a68d70d9abp-1, 0x1.0d8101041429cp-1,
    0x1.0fbb3a232590fp-1, 0x1.11f9248311f34p-1, 0x1.143ad105ea998p-1, 0x1.16805128639d6p-1,
    0x1.18c9b709b3c4dp-1, 0x1.1b171573fd10ep-1, 0x1.1d687fe549966p-1, 0x1.1fbe0a992961dp-1,
    0x1.2217ca92ff7eep-1, 0x1.2475d5a90db80p-1, 0x1.26d84290504e9p-1, 0x1.293f28e93cd11p-1,
    0x1.2baaa14d79545p-1, 0x1.2e1ac55ea3beap-1, 0x1.308fafd6438ebp-1, 0x1.33097c9703a32p-1,
    0x1.358848bf550e6p-1, 0x1.380c32bda00d2p-1, 0x1.3a955a662cd0bp-1, 0x1.3d23e10af31a1p-1,
    0x1.3fb7e99585b7fp-1, 0x1.425198a355fe0p-1, 0x1.44f114a493676p-1, 0x1.479685fdf500fp-1,
    0x1.4a42172dc5276p-1, 0x1.4cf3f4f494ebep-1, 0x1.4fac4e820b665p-1, 0x1.526b55a656cd3p-1,
    0x1.55313f08d9e44p-1, 0x1.57fe4264c8d8cp-1, 0x1.5ad29acc85c85p-1, 0x1.5dae86f4aff66p-1,
    0x1.6092498802661p-1, 0x1.637e298550c15p-1, 0x1.667272a92e320p-1, 0x1.696f75e513b26p-1,
    0x1.6c7589e635a86p-1, 0x1.6f850baea7aebp-1, 0x1.729e5f43f6d0ep-1, 0x1.75c1f0770d852p-1,
    0x1.78f033ca0b0d2p-1, 0x1.7c29a779c6855p-1, 0x1.7f6ed4b20e2c8p-1, 0x1.82c050f56cf6bp-1,
    0x1.861ebfc37bca8p-1, 0x1.898ad48badefep-1, 0x1.8d0554fe60aa4p-1, 0x1.908f1bd31714bp-1,
    0x1.94291c21b7a43p-1, 0x1.97d4657617abep-1, 0x1.9b9228d24067ep-1, 0x1.9f63bee651fd5p-1,
    0x1.a34aafdf5af0cp-1, 0x1.a748bd550c9dep-1, 0x1.ab5fef17a2502p-1, 0x1.af92a3f6ce8a0p-1,
    0x1.b3e3a8234dd0ep-1, 0x1.b85653a8ff54fp-1, 0x1.bceeb4ee1dc7fp-1, 0x1.c1b1cd9eebae7p-1,
    0x1.c6a5ecea9787cp-1, 0x1.cbd33a8a72de8p-1, 0x1.d144978a119d9p-1, 0x1.d70920657bcefp-1,
    0x1.dd36fa704de92p-1, 0x1.e3f11e027f074p-1, 0x1.eb7545b6ca912p-1, 0x1.f446ac979f084p-1,
    0x1.0000000000000p+0};

static void philox_round(uint32_t ctr[4], const uint32_t key[2]) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * ctr[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * ctr[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t c1 = ctr[1], c3 = ctr[3];
    ctr[0] = hi1 ^ c1 ^ key[0];
    ctr[1] = lo1;
    ctr[2] = hi0 ^ c3 ^ key[1];
    ctr[3] = lo0;
}

void isw_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
    uint32_t ctr[4] = {ctr_in[0], ctr_in[1], ctr_in[2], ctr_in[3]};
    uint32_t key[2] = {key_in[0], key_in[1]};
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            key[0] += PHILOX_W0;
            key[1] += PHILOX_W1;
        }
        philox_round(ctr, key);
    }
    for (int i = 0; i < 4; i++) out[i] = ctr[i];
}

/* Blocks per group: the unit in which the fill functions compute Philox. */
#define GROUP 16
/* Groups per buffer: 64 blocks, 256 words, the generator's 1 KiB buffer. */
#define MAX_GROUPS 4
#define BUF_WORDS (4 * GROUP * MAX_GROUPS)
_Static_assert(BUF_WORDS == ISW_RNG_BUF_WORDS, "the generator's buffer holds MAX_GROUPS groups");

/* Portable group: GROUP blocks at counters first .. first + GROUP - 1 of stream `stream`, block
 * j's words at out[4j .. 4j + 3] (out[4 * GROUP]). The vector forms below give the same bits. */
static void philox_group_scalar(uint64_t first, uint32_t stream, const uint32_t key[2],
                                uint32_t out[4 * GROUP]) {
    for (int j = 0; j < GROUP; j++) {
        uint64_t c = first + (uint64_t)j;
        uint32_t ctr[4] = {(uint32_t)c, (uint32_t)(c >> 32), stream, 0};
        isw_philox4x32_10(ctr, key, out + 4 * j);
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(ISW_RNG_PORTABLE)
#include <immintrin.h>
#define HAVE_X86_GROUPS 1

/* (-DISW_RNG_PORTABLE leaves the vector groups out, to test the portable build on x86-64.)
 * The vector groups hold one block per 64-bit lane, its counter word in the low half, so that
 * pmuludq (_mm_mul_epu32), which reads only low halves, gives a round's full 32x32->64 products
 * for two (SSE2) or four (AVX2) blocks at once. The high halves carry junk (the products' high
 * words) that no multiply reads and the final shuffle drops, which saves masking every round.
 * Integer operations only: the same bits as isw_philox4x32_10 on any machine; which form runs
 * changes the speed, never the numbers (tests/unit/test_rng.c compares them with the scalar). */

/* 8 blocks, SSE2 (every x86-64): out[32]. */
static void philox_8_sse2(uint64_t first, uint32_t stream, const uint32_t key[2],
                          uint32_t out[32]) {
    __m128i c0[4], c1[4], c2[4], c3[4];
    /* The 64-bit counters themselves: low half ctr[0], high half ctr[1] (junk to the multiply). */
    const __m128i step = _mm_set_epi64x(1, 0), two = _mm_set1_epi64x(2);
    __m128i ctr = _mm_add_epi64(_mm_set1_epi64x((long long)first), step);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        c0[j] = ctr;
        c1[j] = _mm_srli_epi64(ctr, 32);
        c2[j] = _mm_set1_epi64x((long long)stream);
        c3[j] = _mm_setzero_si128();
        ctr = _mm_add_epi64(ctr, two);
    }
    const __m128i m0 = _mm_set1_epi64x((long long)PHILOX_M0);
    const __m128i m1 = _mm_set1_epi64x((long long)PHILOX_M1);
    uint32_t k0 = key[0], k1 = key[1];
    /* Unrolled in full, so that the state stays in registers (gcc -O2 would keep the arrays on
     * the stack and pay a load and a store per operation). */
#pragma GCC unroll 10
    for (int r = 0; r < 10; r++) {
        __m128i kk0 = _mm_set1_epi64x((long long)k0), kk1 = _mm_set1_epi64x((long long)k1);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            __m128i p0 = _mm_mul_epu32(c0[j], m0), p1 = _mm_mul_epu32(c2[j], m1);
            __m128i n0 = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(p1, 32), c1[j]), kk0);
            __m128i n2 = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(p0, 32), c3[j]), kk1);
            c1[j] = p1; /* low half: the product's low word */
            c3[j] = p0;
            c0[j] = n0;
            c2[j] = n2;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        /* lanes (block 2j, block 2j + 1) of the four words -> the words of each block */
        __m128i lo01 = _mm_unpacklo_epi32(c0[j], c1[j]); /* c0, c1 of block 2j, junk */
        __m128i lo23 = _mm_unpacklo_epi32(c2[j], c3[j]);
        __m128i hi01 = _mm_unpackhi_epi32(c0[j], c1[j]); /* c0, c1 of block 2j + 1, junk */
        __m128i hi23 = _mm_unpackhi_epi32(c2[j], c3[j]);
        _mm_storeu_si128((__m128i *)(void *)(out + 8 * j), _mm_unpacklo_epi64(lo01, lo23));
        _mm_storeu_si128((__m128i *)(void *)(out + 8 * j + 4), _mm_unpacklo_epi64(hi01, hi23));
    }
}

/* 16 blocks, AVX2 (chosen at run time): out[64]. Four registers per word keep four independent
 * multiply chains in flight. */
__attribute__((target("avx2"))) static void philox_16_avx2(uint64_t first, uint32_t stream,
                                                           const uint32_t key[2],
                                                           uint32_t out[64]) {
    __m256i c0[4], c1[4], c2[4], c3[4];
    const __m256i step = _mm256_set_epi64x(3, 2, 1, 0), four = _mm256_set1_epi64x(4);
    __m256i ctr = _mm256_add_epi64(_mm256_set1_epi64x((long long)first), step);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        c0[j] = ctr;
        c1[j] = _mm256_srli_epi64(ctr, 32);
        c2[j] = _mm256_set1_epi64x((long long)stream);
        c3[j] = _mm256_setzero_si256();
        ctr = _mm256_add_epi64(ctr, four);
    }
    const __m256i m0 = _mm256_set1_epi64x((long long)PHILOX_M0);
    const __m256i m1 = _mm256_set1_epi64x((long long)PHILOX_M1);
    uint32_t k0 = key[0], k1 = key[1];
#pragma GCC unroll 10
    for (int r = 0; r < 10; r++) {
        __m256i kk0 = _mm256_set1_epi64x((long long)k0), kk1 = _mm256_set1_epi64x((long long)k1);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            __m256i p0 = _mm256_mul_epu32(c0[j], m0), p1 = _mm256_mul_epu32(c2[j], m1);
            __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1[j]), kk0);
            __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3[j]), kk1);
            c1[j] = p1;
            c3[j] = p0;
            c0[j] = n0;
            c2[j] = n2;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        /* 128-bit halves work like the SSE2 form: blocks 4j, 4j + 2 in A; 4j + 1, 4j + 3 in B */
        __m256i lo01 = _mm256_unpacklo_epi32(c0[j], c1[j]);
        __m256i lo23 = _mm256_unpacklo_epi32(c2[j], c3[j]);
        __m256i hi01 = _mm256_unpackhi_epi32(c0[j], c1[j]);
        __m256i hi23 = _mm256_unpackhi_epi32(c2[j], c3[j]);
        __m256i a = _mm256_unpacklo_epi64(lo01, lo23), b = _mm256_unpacklo_epi64(hi01, hi23);
        _mm256_storeu_si256((__m256i *)(void *)(out + 16 * j),
                            _mm256_permute2x128_si256(a, b, 0x20));
        _mm256_storeu_si256((__m256i *)(void *)(out + 16 * j + 8),
                            _mm256_permute2x128_si256(a, b, 0x31));
    }
}
#endif

/* Which form computes the groups: 0 portable, 1 SSE2, 2 AVX2; set by isw_rng_set_kernel for
 * tests, otherwise the best the machine has. */
static int forced_kernel = -1;

int isw_rng_set_kernel(int kernel) {
#ifdef HAVE_X86_GROUPS
    int best = __builtin_cpu_supports("avx2") ? 2 : 1;
#else
    int best = 0;
#endif
    if (kernel > best) return best;
    forced_kernel = kernel;
    return kernel < 0 ? best : kernel;
}

static void philox_group(uint64_t first, uint32_t stream, const uint32_t key[2],
                         uint32_t out[4 * GROUP]) {
#ifdef HAVE_X86_GROUPS
    int kernel = forced_kernel >= 0 ? forced_kernel : __builtin_cpu_supports("avx2") ? 2 : 1;
    if (kernel == 2) {
        philox_16_avx2(first, stream, key, out);
        return;
    }
    if (kernel == 1) {
        philox_8_sse2(first, stream, key, out);
        philox_8_sse2(first + 8, stream, key, out + 32);
        return;
    }
#endif
    philox_group_scalar(first, stream, key, out);
}

void isw_rng_init(isw_rng *rng, uint64_t seed, uint32_t stream) {
    rng->key[0] = (uint32_t)seed;
    rng->key[1] = (uint32_t)(seed >> 32);
    rng->stream = stream;
    rng->first_block = 0;
    rng->at = rng->len = 0; /* nothing computed: the first draw computes block 0 on */
}

/* Computes the stream's words from position pos on into the generator's buffer: enough for
 * `want` words (in whole groups, at most BUF_WORDS), so that a short draw computes one group.
 * When the buffer is used up, pos is where it ended and no block is computed twice; a pair that
 * straddles the end recomputes one block. */
static void run_load(isw_rng *run, uint64_t pos, long want) {
    run->first_block = pos / 4;
    run->at = (int)(pos % 4);
    long groups = (run->at + want + 4 * GROUP - 1) / (4 * GROUP);
    if (groups < 1) groups = 1;
    if (groups > MAX_GROUPS) groups = MAX_GROUPS;
    for (long g = 0; g < groups; g++)
        philox_group(run->first_block + (uint64_t)(g * GROUP), run->stream, run->key,
                     run->w + 4 * GROUP * g);
    run->len = (int)(4 * GROUP * groups);
}

/* The generator's position: the index of the next word of the stream. */
static uint64_t run_pos(const isw_rng *run) { return run->first_block * 4 + (uint64_t)run->at; }

uint64_t isw_rng_tell(const isw_rng *rng) { return run_pos(rng); }

/* Nothing computed from pos on: the next draw computes its words there (run_load). */
void isw_rng_seek(isw_rng *rng, uint64_t pos) {
    rng->first_block = pos / 4;
    rng->at = rng->len = (int)(pos % 4);
}

/* Word pair at w[0], w[1] as a u64, first word high (the stream's u64). */
static uint64_t pair_at(const uint32_t *w /* [2] */) {
    return ((uint64_t)w[0] << 32) | w[1];
}

/* The next u64, computing more words when fewer than two are left (`want` of them). */
static uint64_t run_u64(isw_rng *run, long want) {
    if (run->at + 2 > run->len) run_load(run, run_pos(run), want);
    uint64_t r = pair_at(run->w + run->at);
    run->at += 2;
    return r;
}

uint32_t isw_rng_u32(isw_rng *rng) {
    if (rng->at >= rng->len) run_load(rng, run_pos(rng), 1);
    return rng->w[rng->at++];
}

uint64_t isw_rng_u64(isw_rng *rng) { return run_u64(rng, 2); }

void isw_rng_u32_fill(isw_rng *rng, uint32_t *out, long n) {
    while (n > 0) {
        if (rng->at >= rng->len) run_load(rng, run_pos(rng), n);
        long m = rng->len - rng->at;
        if (m > n) m = n;
        memcpy(out, rng->w + rng->at, sizeof(uint32_t) * (size_t)m);
        rng->at += (int)m;
        out += m;
        n -= m;
    }
}

/* 53 bits of a word, shifted by half an ulp so that neither 0 nor 1 can come out (log(0)). */
static double word_to_uniform(uint64_t r) {
    return ((double)(int64_t)(r >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double isw_rng_uniform(isw_rng *rng) { return word_to_uniform(isw_rng_u64(rng)); }

void isw_rng_uniform_fill(isw_rng *rng, double *x, long n) {
    for (long i = 0; i < n; i++) x[i] = word_to_uniform(run_u64(rng, 2 * (n - i)));
}

/* Marsaglia (1964): x = -log(u1) / a, y = -log(u2), accept when 2y > x^2; a + x then has the
 * density of a normal beyond a. Exact; about 1.3 tries at a = 1, 1.07 at the ziggurat's r. */
static double tail_from(isw_rng *run, double a) {
    for (;;) {
        double x = -log(word_to_uniform(run_u64(run, 8))) / a;
        double y = -log(word_to_uniform(run_u64(run, 8)));
        if (y + y > x * x) return a + x;
    }
}

double isw_rng_normal_tail(isw_rng *rng, double a) {
    if (!(a > 0.0)) return NAN;
    return tail_from(rng, a);
}

/* The word's candidate: strip bits 0-7, sign bit 8, abscissa bits 12-63 (rabs < 2^52, so the
 * signed conversion is exact and a single instruction). */
static double candidate(uint64_t r) { return (double)(int64_t)(r >> 12) * zig_w[r & 0x1ff]; }

/* The fast test: the candidate lies in the part of its strip under the curve for sure. */
static int sure(uint64_t r) { return (r >> 12) < zig_k[r & 0xff]; }

/* The ziggurat after word r missed the fast test: the tail, a wedge test, or a fresh word (every
 * new word is first tried on the fast test again). Further words come from the run, which keeps
 * them in order with the fill's (a few words each time; the run is computed in groups anyway). */
static double normal_slow(isw_rng *run, uint64_t r) {
    for (;;) {
        int idx = (int)(r & 0xff);
        if (sure(r)) return candidate(r);
        if (idx == 0) {
            double z = tail_from(run, ZIG_R);
            return (r & 0x100) ? -z : z;
        }
        double z = candidate(r);
        double y = zig_f[idx] + (zig_f[idx + 1] - zig_f[idx]) * word_to_uniform(run_u64(run, 8));
        if (y < exp(-0.5 * z * z)) return z;
        r = run_u64(run, 8);
    }
}

double isw_rng_normal(isw_rng *rng) {
    uint64_t r = run_u64(rng, 2);
    return sure(r) ? candidate(r) : normal_slow(rng, r);
}

/* Turns the run's words into x[i] for i < n while they pass the fast test and last (2 words
 * per normal); returns how many it wrote. The hot loop of the fill: no refill, no slow path. */
static long fast_normals(isw_rng *run, double *x /* [n] */, long n, double sd) {
    long m = (run->len - run->at) / 2;
    if (m > n) m = n;
    const uint32_t *w = run->w + run->at;
    long i = 0;
    for (; i < m; i++) {
        uint64_t r = pair_at(w + 2 * i);
        if (!sure(r)) break; /* 1.2% of words */
        x[i] = sd * candidate(r);
    }
    run->at += (int)(2 * i);
    return i;
}

void isw_rng_normal_fill(isw_rng *rng, double *x, long n, double sd) {
    long i = 0;
    while (i < n) {
        i += fast_normals(rng, x + i, n - i, sd);
        if (i == n) break;
        /* words used up, or one missed the fast test */
        uint64_t r = run_u64(rng, 2 * (n - i));
        x[i] = sd * (sure(r) ? candidate(r) : normal_slow(rng, r));
        i++;
    }
}

uint64_t isw_rng_below(isw_rng *rng, uint64_t n) {
    /* Rejection: accept draws below the largest multiple of n, so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    uint64_t x;
    do x = isw_rng_u64(rng);
    while (x >= limit);
    return x % n;
}
