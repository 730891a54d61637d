/**
 * Import this module BEFORE `snowflake-sdk` (ES modules evaluate in import order).
 *
 * snowflake-sdk 3.x probes its platform when the module loads (lib/telemetry/platform_detection):
 * HTTP requests to the cloud metadata address 169.254.169.254, metadata.google.internal and an AWS STS
 * call. floe must not send traffic anywhere but the Snowflake it is pointed at, so the probe is turned
 * off with the driver's own switch, SNOWFLAKE_DISABLE_PLATFORM_DETECTION, unless the user set it.
 * The bundled AWS SDK's one-off "Node 22 will be required after January 2027" notice is silenced too:
 * floe pins snowflake-sdk, so it is noise on every run under Node 20.
 */
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
