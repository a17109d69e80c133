// Plain Java, no Android imports: the tokenizer, input building, softmax/labels, manifest and
// benchmark-report code, unit-tested on any JVM (`./gradlew :core:test`, or tests/test_android_core.py).
plugins {
    `java-library`
}

java {
    // Java 8 APIs only, so that every Android version the app supports has them.
    sourceCompatibility = JavaVersion.VERSION_1_8
    targetCompatibility = JavaVersion.VERSION_1_8
}

dependencies {
    // org.json is part of Android; on the JVM (unit tests) the same classes come from this artifact.
    compileOnly("com.vaadin.external.google:android-json:0.0.20131108.vaadin1")
    testImplementation("com.vaadin.external.google:android-json:0.0.20131108.vaadin1")
    testImplementation("junit:junit:4.13.2")
}
