// A module that fails as it loads (the evaluation test's import error).
export const settings = JSON.parse(process.env.SKEIN_TEST_NO_SUCH_SETTINGS ?? '');
