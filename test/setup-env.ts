// The AWS SDK warns on Node < 22 once per process. Lambda runs Node 22; this machine runs Node 20, which the
// SDK still supports: silence the warning so test output shows what matters.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
