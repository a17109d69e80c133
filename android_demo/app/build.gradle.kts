plugins {
    id("com.android.application")
}

android {
    namespace = "org.albertedge.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.albertedge.demo"
        // ExecuTorch's native libraries are built for android-26.
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk {
            // The ABIs ExecuTorch ships native libraries for: fbjni also has 32-bit ones, so without this a 32-bit
            // phone would install the app and crash at the first model load.
            abiFilters += listOf("arm64-v8a", "x86_64")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_11
        targetCompatibility = JavaVersion.VERSION_11
    }

    androidResources {
        // Stored uncompressed, the .pte is copied out of the APK at disk speed on first launch.
        noCompress += "pte"
    }
}

dependencies {
    implementation(project(":core"))
    // The Android runtime matching the executorch 1.5.1 that exported the .pte (Maven has no 1.5.0).
    // A .pte from a newer exporter may use ops or a format this runtime lacks: keep the two in step.
    implementation("org.pytorch:executorch-android:1.5.1")
}

// Fail at the start of any build, with the fix, rather than ship an app that crashes on launch.
val assetsDir = layout.projectDirectory.dir("src/main/assets").asFile
val checkModelAssets by tasks.registering {
    group = "verification"
    description = "Checks that python -m albert_edge.bundle has put a model into src/main/assets/."
    doLast {
        val missing = mutableListOf<String>()
        if (!File(assetsDir, "manifest.json").isFile) missing += "manifest.json"
        if (!File(assetsDir, "vocab.json").isFile) missing += "vocab.json"
        if (assetsDir.listFiles { f -> f.name.endsWith(".pte") }.isNullOrEmpty()) missing += "a .pte model"
        if (missing.isNotEmpty()) {
            throw GradleException(
                "app/src/main/assets/ lacks ${missing.joinToString(", ")}. Bundle an export first, from the repository root:\n" +
                    "    python -m albert_edge.export --int8 --out OUT\n" +
                    "    python -m albert_edge.bundle OUT android_demo"
            )
        }
    }
}
tasks.named("preBuild") { dependsOn(checkModelAssets) }
