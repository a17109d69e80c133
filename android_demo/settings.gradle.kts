pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "albert-edge-demo"

// shim/ is deliberately absent: it is a compile-only stand-in for tests on machines without the
// Android SDK (see shim/README.md) and must never reach an APK.
include(":app", ":core")
